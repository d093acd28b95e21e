"""A calibration's page, with the impact of an out-of-tolerance calibration: what its instrument
measured since its last good calibration, room by room, with links to the rooms' pages showing
that window (ISO/IEC 17025 7.10)."""

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from calibrations.admin.changelist import CalibrationAdmin
from calibrations.models import Calibration

from ..selectors import Impact, calibration_impact

IMPACT_TITLE = "Impact of this out-of-tolerance calibration"
IMPACT_NOTE = (
    "What this instrument measured since it was last found good: review these readings, and "
    "what was decided with them (ISO/IEC 17025 7.10)."
)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def room_window_url(room_id: str, calibration: Calibration) -> str:
    """A room's page showing the impact window of `calibration` (see `readings.RoomAdmin`)."""
    return (
        reverse("admin:measurements_room_change", args=[room_id])
        + "?"
        + urlencode({"impact": str(calibration.pk)})
    )


def readings_url(room_id: str, start: datetime, end: datetime) -> str:
    """The room's readings list over the UTC days the window spans."""
    query = {
        "room__exact": room_id,
        "timestamp__range_from": start.astimezone(UTC).date().isoformat(),
        "timestamp__range_to": end.astimezone(UTC).date().isoformat(),
    }
    return reverse("admin:measurements_measurement_changelist") + "?" + urlencode(query)


def impact_html(impact: Impact) -> str:
    calibration = impact.calibration
    if impact.start is None or not impact.placements:
        why = (
            "it was never placed as a room's sensor"
            if impact.start is None
            else "it was not placed as a room's sensor in that time"
        )
        return format_html(
            '<div id="impact-panel"><p class="impact-none">Nothing to trace: {}.</p></div>', why
        )
    rows = format_html_join(
        "",
        '<tr><td><a class="impact-room" href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td>'
        '<td><a href="{}">{}</a></td><td>{}</td></tr>',
        (
            (
                room_window_url(part.placement.room_id, calibration),
                part.placement.room_id,
                part.placement.sensor or "(unnamed)",
                _utc(part.start),
                _utc(part.end) + ("" if part.end_inclusive else " (excluded)"),
                readings_url(part.placement.room_id, part.start, part.end),
                part.readings,
                len(part.excursions),
            )
            for part in impact.placements
        ),
    )
    return format_html(
        '<div id="impact-panel"><p>From <strong>{}</strong> (its last good calibration, or its '
        "first placement) to <strong>{}</strong> (this calibration), <strong>{}</strong> took "
        '<strong id="impact-readings">{}</strong> reading{} as these sensors. A room\'s link '
        "opens its page with this window highlighted.</p>"
        '<table id="impact-placements"><thead><tr><th>Room</th><th>Sensor</th><th>From</th>'
        "<th>To</th><th>Readings</th><th>Excursions of the room</th></tr></thead>"
        "<tbody>{}</tbody></table></div>",
        _utc(impact.start),
        _utc(impact.end),
        calibration.instrument_id,
        impact.readings,
        "" if impact.readings == 1 else "s",
        rows,
    )


class ImpactCalibrationAdmin(CalibrationAdmin):
    """The calibrations app's calibration page, with the impact panel when it is out of
    tolerance (monitoring knows where the instrument was placed; calibrations does not)."""

    def _shows_impact(self, obj: Calibration | None) -> bool:
        return obj is not None and obj.in_tolerance is False and obj.instrument_id is not None

    def get_fieldsets(self, request: HttpRequest, obj: Calibration | None = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if self._shows_impact(obj):
            panel = (IMPACT_TITLE, {"fields": ["impact_panel"], "description": IMPACT_NOTE})
            fieldsets.insert(1, panel)
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Calibration | None = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "impact_panel"]

    @admin.display(description="Impact")
    def impact_panel(self, calibration: Calibration) -> str:
        if not self._shows_impact(calibration):
            return "-"
        return impact_html(calibration_impact(calibration))


admin.site.unregister(Calibration)
admin.site.register(Calibration, ImpactCalibrationAdmin)
