"""The room page's chart: server-side SVG whose shapes follow the readings."""

import re
from datetime import UTC, datetime, timedelta

from measurements.charts import temperature_chart
from measurements.models import Bucket

START = datetime(2025, 3, 1, tzinfo=UTC)
END = START + timedelta(hours=24)


def _points(svg: str, css_class: str) -> list[tuple[float, float]]:
    match = re.search(rf'<poly\w+ class="{css_class}" points="([^"]*)"', svg)
    assert match, f"no {css_class} shape in the chart"
    return [tuple(map(float, pair.split(","))) for pair in match[1].split()]  # type: ignore[misc]


def test_the_average_line_has_a_point_per_bucket_left_to_right_and_warmer_is_higher() -> None:
    buckets = [
        Bucket(START + timedelta(hours=h), average=20 + h % 3, min=19, max=24, count=6)
        for h in range(24)
    ]
    svg = str(temperature_chart(buckets, START, END, title="lab-1"))
    line = _points(svg, "average")
    assert len(line) == 24
    xs = [x for x, _ in line]
    assert xs == sorted(xs)
    # 22 °C (h % 3 == 2) is drawn above 20 °C (h % 3 == 0): SVG's y grows downwards.
    assert line[2][1] < line[0][1]
    assert svg.startswith('<svg class="temperature-chart"')
    assert "<title>lab-1</title>" in svg


def test_the_band_spans_each_buckets_min_to_max() -> None:
    buckets = [
        Bucket(START, average=20, min=18, max=23, count=3),
        Bucket(START + timedelta(hours=1), average=21, min=20, max=22, count=3),
    ]
    svg = str(temperature_chart(buckets, START, END, title="lab-1"))
    band = _points(svg, "range")
    line = _points(svg, "average")
    assert len(band) == 4  # the max edge left to right, then the min edge back
    for (x, y), top, bottom in zip(line, band[:2], reversed(band[2:]), strict=True):
        assert top[0] == bottom[0] == x
        assert top[1] <= y <= bottom[1]


def test_axis_labels_cover_the_readings_in_degrees_and_the_period_in_hours() -> None:
    buckets = [Bucket(START + timedelta(hours=6), average=-5.5, min=-7, max=-4, count=2)]
    svg = str(temperature_chart(buckets, START, END, title="freezer"))
    labels = [float(v) for v in re.findall(r'class="y-label"[^>]*>(-?[\d.]+) °C<', svg)]
    assert min(labels) <= -7
    assert max(labels) >= -4
    assert "12:00" in svg


def test_the_time_axis_shows_the_date_where_a_day_begins() -> None:
    start = datetime(2025, 3, 1, 18, tzinfo=UTC)
    buckets = [
        Bucket(start + timedelta(hours=h), average=20, min=19, max=21, count=1) for h in range(24)
    ]
    svg = str(temperature_chart(buckets, start, start + timedelta(hours=24), title="lab-1"))
    labels = re.findall(r'class="x-label"[^>]*>([^<]+)<', svg)
    assert "02 Mar" in labels
    assert "00:00" not in labels
    assert "20:00" in labels


def test_an_empty_period_says_so_instead_of_drawing() -> None:
    svg = str(temperature_chart([], START, END, title="lab-1"))
    assert "No readings in this period." in svg
    assert "polyline" not in svg


def test_a_title_is_escaped() -> None:
    svg = str(temperature_chart([], START, END, title="<script>"))
    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
