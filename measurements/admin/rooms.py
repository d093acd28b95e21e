"""Rooms in the operator console: the list with each room's status, and a room's page with
its chart, averages, excursions and range history, where staff change its range with a
reason (through the service the API calls)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from config.admin import PageContextAdmin
from config.users import acting_user

from .. import clock
from ..charts import ChartMark, temperature_chart
from ..conf import stale_after
from ..durations import format_duration, format_span
from ..models import Measurement, RangeVersion, Room, RoomStatus
from ..selectors import (
    excursions,
    mkt_summary,
    range_spans,
    range_versions_covering,
    time_weighted_summary,
)
from ..services import UNSET, alarm_delay_of, room_create, room_update, validate_room_range
from ..services.rooms import REASON_REQUIRED

# The room page's chart: the period shown and the width of each point.
CHART_PERIODS = {
    "24h": ("Last 24 hours", timedelta(hours=24), timedelta(minutes=15), "15 minutes"),
    "7d": ("Last 7 days", timedelta(days=7), timedelta(hours=1), "hour"),
}
DEFAULT_CHART = "24h"
AVERAGES = [
    ("1h", "hour", timedelta(hours=1)),
    ("1d", "day", timedelta(days=1)),
    ("1w", "week", timedelta(weeks=1)),
]


# The room page lists the excursions of this period, and marks them on the chart.
EXCURSIONS_PERIOD = timedelta(days=7)


class RoomForm(forms.ModelForm[Room]):
    """A room's name and acceptable range, checked by the rule the API follows; a change of a
    range the room has had needs a reason, as a calibration's correction does."""

    change_reason = forms.CharField(
        required=False,
        label="Reason for the range change",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=(
            "Required when you change or clear the range (the first range needs none): it is "
            "kept with the new version in the range history."
        ),
    )

    alarm_delay = forms.CharField(
        required=False,
        initial="0s",
        label="Alarm delay",
        help_text="How long readings stay outside the range before an alarm is raised: "
        "0s (at once), 15m, PT1H, …",
    )

    class Meta:
        model = Room
        fields = ["room_id", "name", "min_c", "max_c", "alarm_deadband_c", "alarms_enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What is stored now, before the form copies its values onto the instance.
        self.stored_range = (self.instance.min_c, self.instance.max_c)
        self.range_changed = False
        self.had_range = not self.instance._state.adding and (
            self.instance.min_c is not None
            or RangeVersion.objects.of_room(self.instance.pk).exists()
        )
        # Left empty, the deadband keeps its value (a new room's: none).
        self.fields["alarm_deadband_c"].required = False
        if self.instance._state.adding:
            del self.fields["change_reason"]
        else:
            self.initial["alarm_delay"] = format_duration(self.instance.alarm_delay)

    def clean_alarm_delay(self) -> timedelta:
        # The API's rule and its message: the service's own check, called here for the form.
        try:
            return alarm_delay_of(self.cleaned_data.get("alarm_delay") or "0s")
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["alarm_delay"]) from None

    def clean_alarm_deadband_c(self) -> float:
        deadband = self.cleaned_data.get("alarm_deadband_c")
        return self.instance.alarm_deadband_c if deadband is None else deadband

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "min_c" in cleaned and "max_c" in cleaned:
            try:
                validate_room_range(cleaned["min_c"], cleaned["max_c"])
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
                return cleaned
            # Compared with the stored range, as the service compares it.
            self.range_changed = (cleaned["min_c"], cleaned["max_c"]) != self.stored_range
        reason = (cleaned.get("change_reason") or "").strip()
        if "change_reason" in self.fields and self.range_changed and self.had_range and not reason:
            self.add_error("change_reason", REASON_REQUIRED)
        cleaned["change_reason"] = reason
        return cleaned


class StatusFilter(admin.SimpleListFilter):
    """Rooms by status: a filter on the status the rooms query computes."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(RoomStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(status=value) if value in RoomStatus.values else queryset


def _age(instant: Any, now: Any) -> str:
    """How long ago, in words: `just now`, `9 minutes ago`, `2 days ago`."""
    if now - instant < timedelta(minutes=1):
        return "just now"
    return f"{timesince(instant, now, depth=1)} ago"


def timezone_label(instant: Any) -> str:
    """An instant in the console's time zone, with the zone named."""
    return str(timezone.localtime(instant).strftime("%Y-%m-%d %H:%M:%S %Z"))


def _status_badge(status: str) -> str:
    return format_html(
        '<span class="room-status room-status-{}">{}</span>', status, RoomStatus(status).label
    )


@admin.register(Room)
class RoomAdmin(PageContextAdmin[Room]):
    form = RoomForm
    list_display = [
        "room_id",
        "name",
        "status_badge",
        "range_column",
        "last_value",
        "last_reading_at",
    ]
    list_filter = [StatusFilter]
    search_fields = ["room_id", "name"]
    search_help_text = "Part of a room id or name."
    readonly_fields = ["created_at"]
    ordering = ["room_id"]
    change_form_template = "admin/measurements/room/change_form.html"

    class Media:
        css = {"all": ["measurements/chart.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        # Each room's latest reading and status: index probes per row of the page, in the
        # same query (no query per room).
        return Room.objects.with_status(now=clock.now(), stale_after=stale_after())

    def get_fieldsets(self, request: HttpRequest, obj: Room | None = None) -> Any:
        return [
            (None, {"fields": ["room_id", "name", "created_at"] if obj else ["room_id", "name"]}),
            (
                "Acceptable range",
                {
                    "fields": [("min_c", "max_c"), "change_reason"]
                    if obj
                    else [("min_c", "max_c")],
                    "description": "The band the lab's procedure allows, in °C: set both "
                    "bounds (minimum below maximum) or leave both empty. A reading exactly on "
                    "a bound is inside. Each reading is judged by the range in force at its "
                    "time: a change judges only what comes after it (the first range also "
                    "judges the readings already taken).",
                },
            ),
            (
                "Alarms",
                {
                    "fields": ["alarms_enabled", ("alarm_delay", "alarm_deadband_c")],
                    "description": "A run of readings outside the range raises an alarm once it "
                    "has lasted the delay; the alarm clears at the first reading back inside by "
                    "the deadband (°C). A room with alarms off raises none, silent or not.",
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> list[str]:
        # A room's id is how its sensors address it: fixed once readings exist.
        return ["room_id", "created_at"] if obj else ["created_at"]

    def save_model(self, request: HttpRequest, obj: Room, form: Any, change: bool) -> None:
        # Through the services, as the API writes: the same checks, in one place.
        if change:
            changed = set(form.changed_data)
            rules = {
                name: form.cleaned_data[name]
                for name in ("alarm_delay", "alarm_deadband_c", "alarms_enabled")
                if name in changed
            }
            room_update(
                room=obj,
                name=obj.name if "name" in changed else UNSET,
                min_c=obj.min_c if form.range_changed else UNSET,
                max_c=obj.max_c if form.range_changed else UNSET,
                reason=form.cleaned_data.get("change_reason", ""),
                user=acting_user(request),
                **rules,
            )
        else:
            created = room_create(
                room_id=obj.room_id,
                name=obj.name,
                min_c=obj.min_c,
                max_c=obj.max_c,
                user=acting_user(request),
            )
            room_update(
                room=created,
                alarm_delay=form.cleaned_data["alarm_delay"],
                alarm_deadband_c=form.cleaned_data["alarm_deadband_c"],
                alarms_enabled=form.cleaned_data["alarms_enabled"],
            )
            obj.created_at = created.created_at

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The room's range history, in place of Django's log of admin edits: the audit trail
        is the versions the service wrote, one thing, not two (DESIGN §5)."""
        room = self.get_object(request, unquote(object_id))
        if room is None:
            raise Http404(f"Room '{object_id}' not found.")
        if not self.has_view_or_change_permission(request, room):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"Range history: {room.room_id}",
            "subtitle": None,
            "opts": self.opts,
            "object": room,
            "range_history": range_history_rows(room),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/measurements/room/range_history.html", context)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, room: Room) -> str:
        return _status_badge(room.status)  # type: ignore[attr-defined]

    @admin.display(description="Range")
    def range_column(self, room: Room) -> str:
        # Kept on one line: it reads as one item in a narrow column.
        return format_html('<span class="nowrap">{}</span>', self.range_text(room))

    def range_text(self, room: Room) -> str:
        if room.min_c is None or room.max_c is None:
            return "-"
        return f"{room.min_c:g} – {room.max_c:g} °C"

    @admin.display(description="Last reading", ordering="last_timestamp")
    def last_reading_at(self, room: Room) -> str:
        last = room.last_timestamp  # type: ignore[attr-defined]
        if last is None:
            return "-"
        return format_html(
            '<span class="nowrap" title="{}">{}</span>',
            timezone_label(last),
            _age(last, clock.now()),
        )

    @admin.display(description="Last value")
    def last_value(self, room: Room) -> str:
        value = room.last_value  # type: ignore[attr-defined]
        return "-" if value is None else f"{value:.2f} °C"

    def chart_marks(
        self, request: HttpRequest, room: Room, start: datetime, end: datetime
    ) -> list[ChartMark]:
        """Spans of `[start, end]` to mark on the room's chart: none here. A door for an app
        above this one, which extends this admin to mark what it knows (DESIGN §5)."""
        return []

    def page_context(self, request: HttpRequest, room: Room) -> dict[str, Any]:
        now = clock.now()
        key = request.GET.get("chart", DEFAULT_CHART)
        if key not in CHART_PERIODS:
            key = DEFAULT_CHART
        label, period, bucket, bucket_label = CHART_PERIODS[key]
        buckets = Measurement.objects.window(room, now - period, now).buckets(bucket)
        since = now - EXCURSIONS_PERIOD
        week = excursions(room, since, now)
        shown = now - max(period, EXCURSIONS_PERIOD)
        versions = range_versions_covering(room, shown, now)
        averages = [
            {
                "key": k,
                "label": name,
                **Measurement.objects.window(room, now - span, now).summary(),
                "time_weighted": time_weighted_summary(room, now - span, now)["average"],
                "mkt": mkt_summary(room, now - span, now)["average"],
            }
            for k, name, span in AVERAGES
        ]
        last = getattr(room, "last_timestamp", None)
        return {
            "chart": temperature_chart(
                buckets,
                now - period,
                now,
                title=f"{room.room_id}: {label.lower()}",
                ranges=range_spans(versions, now - period, now),
                excursions=week,
                spans=self.chart_marks(request, room, now - period, now),
            ),
            "status": _status_badge(getattr(room, "status", RoomStatus.NO_DATA)),
            "last_reading_age": _age(last, now) if last else None,
            "has_range": room.min_c is not None,
            "judged": any(v.min_c is not None for v in versions),
            "range_label": self.range_text(room),
            "excursions": [
                {
                    "excursion": e,
                    "duration": format_span(e.duration(now)),
                    "ongoing": e.end is None,
                }
                for e in reversed(week)
            ],
            "excursions_since": since,
            "excursions_total": format_span(sum((e.duration(now) for e in week), timedelta(0))),
            "chart_period": key,
            "chart_periods": [{"key": k, "label": v[0]} for k, v in CHART_PERIODS.items()],
            "chart_bucket_label": bucket_label,
            "averages": averages,
            "range_history": range_history_rows(room),
            "readings_url": reverse("admin:measurements_measurement_changelist")
            + f"?room__exact={room.pk}",
            "readings_csv_url": reverse("admin:measurements_measurement_export")
            + f"?room__exact={room.pk}",
        }


def _bounds(min_c: float | None, max_c: float | None) -> str:
    return "cleared (no range)" if min_c is None or max_c is None else f"{min_c:g} – {max_c:g} °C"


def _utc_us(instant: Any) -> str:
    """An instant in UTC to the microsecond, as the calibrations' versions show theirs."""
    return str(instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC"))


def range_history_rows(room: Room) -> list[dict[str, Any]]:
    """Every version of the room's range, oldest first, as the room page and its History show
    them: the range, when it was set, by whom and why."""
    return [
        {
            "version": version.version,
            "range": _bounds(version.min_c, version.max_c),
            "changed_at": _utc_us(version.changed_at),
            "changed_by": version.changed_by or "-",
            "reason": version.reason or "-",
        }
        for version in RangeVersion.objects.of_room(room)
    ]
