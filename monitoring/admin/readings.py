"""A room's page and its readings list, with what only monitoring knows: which instrument took
the readings, the spans when that instrument was overdue or out of tolerance (marked on the
chart and on each reading), and an out-of-tolerance calibration's impact window."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from calibrations.models import Calibration, InstrumentStatus
from calibrations.selectors import FlaggedPeriod, flagged_periods
from measurements import clock
from measurements.admin import MeasurementAdmin, RoomAdmin
from measurements.charts import ChartMark, temperature_chart
from measurements.models import Measurement, Room
from measurements.selectors import range_spans, range_versions_covering

from ..models import Alarm, Placement
from ..selectors import NotAssessable, calibration_impact, room_excursions, with_instrument

# How many of a room's alarms its page lists (the alarms list has them all).
ROOM_ALARMS = 10
# The impact window's chart: about this many points, each at least this wide.
WINDOW_POINTS = 300
MIN_BUCKET = timedelta(minutes=15)
FLAGGED_NOTE = (
    "Outlined bands on the chart: readings taken by an instrument that was overdue for "
    "calibration (orange) or out of tolerance (purple) at the time. Hover a band for which."
)
FLAG_WORDS: dict[str, str] = {
    InstrumentStatus.OVERDUE: "overdue for calibration",
    InstrumentStatus.OUT_OF_TOLERANCE: "out of tolerance",
}


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def flagged_marks(room: Room, start: datetime, end: datetime) -> list[ChartMark]:
    """The spans of `[start, end]` in which a reading of `room` came from an instrument that
    was overdue or out of tolerance then: its placements here, cut to its flagged periods."""
    placements = list(
        Placement.objects.filter(room=room).overlapping(start, end).order_by("placed_at")
    )
    periods = flagged_periods([p.instrument_id for p in placements], until=end)
    marks = []
    for placement in placements:
        for period in periods[placement.instrument_id]:
            low = max(placement.placed_at, period.start)
            ends = [t for t in (placement.removed_at, period.end) if t is not None]
            high = min(ends) if ends else end
            if low < high:
                sensor = f"sensor '{placement.sensor}'" if placement.sensor else "unnamed sensor"
                marks.append(
                    ChartMark(
                        low,
                        high,
                        period.status,
                        f"Readings of the {sensor} from {placement.instrument_id}, "
                        f"{FLAG_WORDS[period.status]} from {_utc(low)} to {_utc(high)}",
                    )
                )
    return marks


def _explain(request: HttpRequest, flagged: list[ChartMark]) -> list[ChartMark]:
    """Say once per page what the outlined bands are (the room's template has its own legend,
    which knows nothing of instruments)."""
    if flagged and not getattr(request, "_flagged_explained", False):
        messages.info(request, FLAGGED_NOTE)
        request._flagged_explained = True  # type: ignore[attr-defined]
    return flagged


def _bucket_for(span: timedelta) -> timedelta:
    """A point width giving about WINDOW_POINTS points: a whole number of 15 minutes."""
    steps = max(1, int(span / WINDOW_POINTS / MIN_BUCKET))
    return MIN_BUCKET * steps


class MonitoredRoomAdmin(RoomAdmin):
    """The measurements app's room page, with the room's alarms, the marks and the impact
    window."""

    change_form_template = "admin/monitoring/room/change_form.html"

    class Media:
        css = {"all": ["monitoring/console.css"]}

    def chart_marks(
        self, request: HttpRequest, room: Room, start: datetime, end: datetime
    ) -> list[ChartMark]:
        flagged = flagged_marks(room, start, end)
        _explain(request, flagged)
        return [*super().chart_marks(request, room, start, end), *flagged]

    def page_context(self, request: HttpRequest, room: Room) -> dict[str, Any]:
        context = super().page_context(request, room)
        # Its open alarms, then the latest closed ones: one query.
        alarms = list(Alarm.objects.filter(room=room).order_by("-raised_at", "-id")[:ROOM_ALARMS])
        context["room_alarms"] = sorted(alarms, key=lambda a: not a.is_open)
        context["room_alarms_url"] = (
            reverse("admin:monitoring_alarm_changelist") + f"?room_id={room.pk}"
        )
        context["can_acknowledge"] = request.user.has_perm("monitoring.change_alarm")
        raw = request.GET.get("impact")
        if raw:
            chart = self._impact_chart(request, room, raw)
            if chart is not None:
                context["chart"] = chart
        return context

    def _impact_chart(self, request: HttpRequest, room: Room, raw: str) -> Any:
        """The room's chart over the impact window of calibration `raw`, the instrument's
        placements here highlighted; None (and a warning) when there is no such window."""
        try:
            calibration = Calibration.objects.get(pk=uuid.UUID(raw))
            impact = calibration_impact(calibration)
        except (ValueError, ValidationError, Calibration.DoesNotExist, NotAssessable):
            messages.warning(request, f"No impact window to show for calibration '{raw}'.")
            return None
        parts = [p for p in impact.placements if p.placement.room_id == room.pk]
        if impact.start is None or not parts:
            messages.warning(
                request, f"{calibration.instrument_id} did not measure this room in that window."
            )
            return None
        # The part of the window this room saw the instrument in.
        start, end = min(p.start for p in parts), max(p.end for p in parts)
        highlights = [
            ChartMark(
                p.start,
                p.end,
                "impact",
                f"{calibration.instrument_id}'s readings under review: {_utc(p.start)} to "
                f"{_utc(p.end)}, {p.readings} reading{'s' if p.readings != 1 else ''}",
            )
            for p in parts
        ]
        messages.info(
            request,
            f"Highlighted: what {calibration.instrument_id} measured here from {_utc(start)} to "
            f"{_utc(end)}, before calibration {str(calibration.pk)[:8]} found it out of "
            f"tolerance ({sum(p.readings for p in parts)} readings; the impact's window runs "
            f"from {_utc(impact.start)}).",
        )
        return temperature_chart(
            Measurement.objects.window(room, start, end).buckets(_bucket_for(end - start)),
            start,
            end,
            title=f"{room.room_id}: the impact window of calibration {str(calibration.pk)[:8]}",
            ranges=range_spans(range_versions_covering(room, start, end), start, end),
            excursions=room_excursions(room, start, end),
            spans=[*highlights, *_explain(request, flagged_marks(room, start, end))],
        )


class FlaggedChangeList(ChangeList):
    """A page of readings, each with the periods of its instrument (in one more query pair)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        page = list(self.result_list)
        latest = max((m.timestamp for m in page), default=clock.now())
        periods = flagged_periods(
            [m.instrument_id for m in page if getattr(m, "instrument_id", None)], until=latest
        )
        for reading in page:
            reading.flag = _flag(
                periods.get(getattr(reading, "instrument_id", None) or "", []), reading
            )
        self.result_list = page


def _flag(periods: list[FlaggedPeriod], reading: Measurement) -> FlaggedPeriod | None:
    return next((p for p in periods if p.covers(reading.timestamp)), None)


class MonitoredMeasurementAdmin(MeasurementAdmin):
    """The measurements app's readings list, each reading with the instrument that took it,
    marked when that instrument was overdue or out of tolerance then."""

    list_display = [*MeasurementAdmin.list_display, "instrument_column"]

    class Media:
        css = {"all": ["calibrations/instruments.css", "monitoring/console.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Measurement]:
        return with_instrument(super().get_queryset(request))

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FlaggedChangeList

    @admin.display(description="Instrument")
    def instrument_column(self, reading: Measurement) -> str:
        instrument_id = getattr(reading, "instrument_id", None)
        if not instrument_id:
            return "-"
        url = reverse("admin:calibrations_instrument_change", args=[instrument_id])
        flag: FlaggedPeriod | None = getattr(reading, "flag", None)
        if flag is None:
            return format_html('<a href="{}">{}</a>', url, instrument_id)
        return format_html(
            '<a href="{}">{}</a> <span class="instrument-status instrument-status-{} '
            'reading-flag" title="Since {}">{}</span>',
            url,
            instrument_id,
            flag.status,
            _utc(flag.start),
            InstrumentStatus(flag.status).label,
        )


admin.site.unregister(Room)
admin.site.register(Room, MonitoredRoomAdmin)
admin.site.unregister(Measurement)
admin.site.register(Measurement, MonitoredMeasurementAdmin)
