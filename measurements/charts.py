"""A room's temperatures as a server-side SVG chart: no script, no CDN, readable without one."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil, floor, log10

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from .models import Bucket
from .selectors import Excursion, RangeSpan

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28  # margins for the axes' labels


@dataclass(frozen=True)
class ChartMark:
    """A span of time an app above this one marks on the chart (`RoomAdmin.chart_marks`, the
    `spans` of `temperature_chart`): a band of class `chart-mark chart-mark-<kind>`, saying
    `label` on hover."""

    start: datetime
    end: datetime
    kind: str
    label: str


def _nice_step(span: float) -> float:
    """A step of 1, 2 or 5 × 10ⁿ giving about five gridlines over `span`."""
    raw = span / 5 or 1.0
    magnitude = 10 ** floor(log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _tick_label(tick: datetime, hourly: bool) -> str:
    """An hour on a day's chart, the date where a day begins (and on a week's chart)."""
    if hourly and (tick.hour, tick.minute) != (0, 0):
        return tick.strftime("%H:%M")
    return tick.strftime("%d %b")


def _time_ticks(start: datetime, end: datetime) -> list[datetime]:
    span = end - start
    step = timedelta(hours=4) if span <= timedelta(days=2) else timedelta(days=1)
    if span > timedelta(days=14):
        # A longer span (an impact window, drawn from above): whole days, ten ticks at most.
        step *= -(-span // (step * 10))
    first = start.astimezone(timezone.get_current_timezone())
    first = first.replace(minute=0, second=0, microsecond=0)
    if step >= timedelta(days=1):
        first = first.replace(hour=0)
    else:
        first = first.replace(hour=first.hour - first.hour % 4)
    ticks = []
    tick = first
    while tick <= end:
        if tick >= start:
            ticks.append(tick)
        tick += step
    return ticks


def temperature_chart(
    buckets: Sequence[Bucket],
    start: datetime,
    end: datetime,
    *,
    title: str,
    ranges: Sequence[RangeSpan] = (),
    excursions: Sequence[Excursion] = (),
    spans: Sequence[ChartMark] = (),
) -> SafeString:
    """Averages as a line, each bucket's min–max as a band, between `start` and `end`; the
    acceptable range in force at each moment shaded (a step when it changed: `ranges`, from
    `selectors.range_spans`), each excursion marked over its time, and `spans` drawn as bands
    over theirs."""
    if not buckets:
        return format_html(
            '<svg class="temperature-chart empty" viewBox="0 0 {} {}" role="img" aria-label="{}">'
            '<title>{}</title><text x="{}" y="{}" text-anchor="middle">'
            "No readings in this period.</text></svg>",
            WIDTH,
            HEIGHT,
            title,
            title,
            WIDTH // 2,
            HEIGHT // 2,
        )
    low = min(b.min for b in buckets)
    high = max(b.max for b in buckets)
    shaded = [r for r in ranges if r.min_c is not None and r.max_c is not None]
    # The ranges are always in view, so a room well inside one still shows how far inside.
    low = min([low, *(r.min_c for r in shaded if r.min_c is not None)])
    high = max([high, *(r.max_c for r in shaded if r.max_c is not None)])
    step = _nice_step(high - low)
    low, high = floor(low / step) * step, ceil(high / step) * step
    if high - low < step:
        low, high = low - step, high + step
    seconds = max((end - start).total_seconds(), 1.0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(when: datetime) -> float:
        return round(LEFT + plot_w * (when - start).total_seconds() / seconds, 1)

    def y(celsius: float) -> float:
        return round(TOP + plot_h * (high - celsius) / (high - low), 1)

    average = " ".join(f"{x(b.start)},{y(b.average)}" for b in buckets)
    band = " ".join(
        [f"{x(b.start)},{y(b.max)}" for b in buckets]
        + [f"{x(b.start)},{y(b.min)}" for b in reversed(buckets)]
    )
    levels = []
    level = low
    while level <= high + step / 2:
        levels.append(level)
        level += step
    decimals = 0 if step >= 1 else 1 if step >= 0.1 else 2
    grid = format_html_join(
        "",
        '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="y-label" x="{}" y="{}" text-anchor="end">{} °C</text>',
        (
            (LEFT, WIDTH - RIGHT, y(v), y(v), LEFT - 6, y(v) + 4, f"{v:.{decimals}f}")
            for v in levels
        ),
    )
    hourly = end - start <= timedelta(days=2)
    axis = format_html_join(
        "",
        '<line class="tick" x1="{}" x2="{}" y1="{}" y2="{}"/>'
        '<text class="x-label" x="{}" y="{}" text-anchor="middle">{}</text>',
        (
            (x(t), x(t), TOP + plot_h, TOP + plot_h + 4, x(t), HEIGHT - 8, _tick_label(t, hourly))
            for t in _time_ticks(start, end)
        ),
    )
    points = format_html_join(
        "",
        '<circle class="point" cx="{}" cy="{}" r="1.5"><title>{}: {} °C ({} readings)</title></circle>',
        (
            (
                x(b.start),
                y(b.average),
                timezone.localtime(b.start).strftime("%Y-%m-%d %H:%M"),
                f"{b.average:.2f}",
                b.count,
            )
            for b in buckets
        ),
    )
    acceptable = format_html_join(
        "",
        '<rect class="acceptable" x="{}" y="{}" width="{}" height="{}">'
        "<title>Acceptable range: {} to {} °C{}</title></rect>",
        (
            (
                x(r.start),
                y(r.max_c),  # type: ignore[arg-type]
                round(x(r.end) - x(r.start), 1),
                round(y(r.min_c) - y(r.max_c), 1),  # type: ignore[arg-type]
                f"{r.min_c:g}",
                f"{r.max_c:g}",
                "" if len(ranges) == 1 else f" ({_span_label(r)})",
            )
            for r in shaded
        ),
    )
    spans_html = format_html_join(
        "",
        '<rect class="chart-mark chart-mark-{}" x="{}" y="{}" width="{}" height="{}">'
        "<title>{}</title></rect>",
        (
            (
                m.kind,
                x(max(m.start, start)),
                TOP,
                max(round(x(min(m.end, end)) - x(max(m.start, start)), 1), 2.0),
                plot_h,
                m.label,
            )
            for m in spans
            if m.start <= end and m.end >= start
        ),
    )
    marks = format_html_join(
        "",
        '<rect class="excursion excursion-{}" x="{}" y="{}" width="{}" height="{}">'
        "<title>{}</title></rect>",
        (
            (
                e.kind,
                x(max(e.start, start)),
                TOP,
                max(round(x(min(e.end or end, end)) - x(max(e.start, start)), 1), 2.0),
                plot_h,
                _excursion_label(e),
            )
            for e in excursions
            if e.start <= end and (e.end is None or e.end >= start)
        ),
    )
    return format_html(
        '<svg class="temperature-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">'
        "<title>{title}</title>{acceptable}{spans}{marks}{grid}{axis}"
        '<polygon class="range" points="{band}"/>'
        '<polyline class="average" points="{average}"/>{points}</svg>',
        w=WIDTH,
        h=HEIGHT,
        title=title,
        acceptable=acceptable,
        spans=spans_html,
        marks=marks,
        grid=grid,
        axis=axis,
        band=band,
        average=average,
        points=points,
    )


def _span_label(span: RangeSpan) -> str:
    since = timezone.localtime(span.start).strftime("%Y-%m-%d %H:%M %Z")
    until = timezone.localtime(span.end).strftime("%Y-%m-%d %H:%M %Z")
    return f"in force from {since} to {until}"


def _excursion_label(excursion: Excursion) -> str:
    when = timezone.localtime(excursion.start).strftime("%Y-%m-%d %H:%M %Z")
    until = (
        timezone.localtime(excursion.end).strftime("%Y-%m-%d %H:%M %Z")
        if excursion.end
        else "still outside"
    )
    side = "Above" if excursion.kind == "high" else "Below"
    return (
        f"{side} the range from {when} to {until}: peak {excursion.peak:.2f} °C, "
        f"{excursion.readings} reading{'s' if excursion.readings != 1 else ''}"
    )
