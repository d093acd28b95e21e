"""Rooms and readings in the operator console, fast on tables of millions of readings."""

from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince

from config.admin import DateRangeListFilter, EstimatedCountPaginator, PageContextAdmin

from . import clock
from .charts import ChartMark, temperature_chart
from .conf import stale_after
from .durations import format_span
from .models import ArchivedMeasurement, Measurement, Room, RoomStatus
from .selectors import excursions
from .services import UNSET, room_create, room_update, validate_room_range

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
    """A room's name and acceptable range, checked by the rule the API follows."""

    class Meta:
        model = Room
        fields = ["room_id", "name", "min_c", "max_c"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "min_c" in cleaned and "max_c" in cleaned:
            try:
                validate_room_range(cleaned["min_c"], cleaned["max_c"])
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    self.add_error(field, messages)
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
                    "fields": [("min_c", "max_c")],
                    "description": "The band the lab's procedure allows, in °C: set both "
                    "bounds (minimum below maximum) or leave both empty. A reading exactly on "
                    "a bound is inside.",
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
            room_update(
                room=obj,
                name=obj.name if "name" in changed else UNSET,
                min_c=obj.min_c if changed & {"min_c", "max_c"} else UNSET,
                max_c=obj.max_c if changed & {"min_c", "max_c"} else UNSET,
            )
        else:
            created = room_create(
                room_id=obj.room_id, name=obj.name, min_c=obj.min_c, max_c=obj.max_c
            )
            obj.created_at = created.created_at

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
        week = excursions(room, now - EXCURSIONS_PERIOD, now, room.min_c, room.max_c)
        averages = [
            {
                "key": k,
                "label": name,
                **Measurement.objects.window(room, now - span, now).summary(),
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
                min_c=room.min_c,
                max_c=room.max_c,
                excursions=week,
                spans=self.chart_marks(request, room, now - period, now),
            ),
            "status": _status_badge(getattr(room, "status", RoomStatus.NO_DATA)),
            "last_reading_age": _age(last, now) if last else None,
            "has_range": room.min_c is not None,
            "range_label": self.range_text(room),
            "excursions": [
                {
                    "excursion": e,
                    "duration": format_span(e.duration(now)),
                    "ongoing": e.end is None,
                }
                for e in reversed(week)
            ],
            "excursions_since": now - EXCURSIONS_PERIOD,
            "excursions_total": format_span(sum((e.duration(now) for e in week), timedelta(0))),
            "chart_period": key,
            "chart_periods": [{"key": k, "label": v[0]} for k, v in CHART_PERIODS.items()],
            "chart_bucket_label": bucket_label,
            "averages": averages,
            "readings_url": reverse("admin:measurements_measurement_changelist")
            + f"?room__exact={room.pk}",
        }


class ReadingRoomFilter(admin.SimpleListFilter):
    """One room's readings (`?room__exact=lab-1`, the room page's link): rooms are few."""

    title = "room"
    parameter_name = "room__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(pk, pk) for pk in Room.objects.order_by("room_id").values_list("pk", flat=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(room_id=self.value()) if self.value() else queryset


def _one_room(request: HttpRequest) -> bool:
    return bool(request.GET.get("room__exact") or request.GET.get("q"))


@admin.register(Measurement)
class MeasurementAdmin(admin.ModelAdmin[Measurement]):
    list_display = ["timestamp", "room_link", "sensor", "celsius"]
    list_select_related = False
    # One room, then a UTC date range: within a room the range is a slice of the unique
    # index (room, timestamp, …). Across rooms the list reads newest recorded first.
    list_filter = [ReadingRoomFilter, ("timestamp", DateRangeListFilter)]
    raw_id_fields = ["room"]
    search_fields = ["room__room_id"]
    search_help_text = "An exact room id."
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_ordering(self, request: HttpRequest) -> list[str]:
        # One room's readings come newest first from the unique index (room, timestamp, …);
        # across rooms, the newest recorded first from the primary key: both without a sort.
        if _one_room(request):
            return ["-timestamp", "-sensor"]
        return ["-id"]

    def get_sortable_by(self, request: HttpRequest) -> tuple[str, ...]:
        # Sorting by time is an index walk (either way) only within one room; across rooms
        # it would sort millions of readings, so the column sorts once a room is chosen.
        return ("timestamp",) if _one_room(request) else ()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Measurement], search_term: str
    ) -> tuple[QuerySet[Measurement], bool]:
        term = search_term.strip()
        return (queryset.filter(room_id=term), False) if term else (queryset, False)

    @admin.display(description="Room")
    def room_link(self, measurement: Measurement) -> str:
        # The room's id is on the row: no join, no query per row.
        url = reverse("admin:measurements_room_change", args=[measurement.room_id])
        return format_html('<a href="{}">{}</a>', url, measurement.room_id)

    @admin.display(description="Value")
    def celsius(self, measurement: Measurement) -> str:
        return f"{measurement.value:.2f} °C"

    # Readings come from sensors through the API and are facts: staff may delete a bad one.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ArchivedMeasurement)
class ArchivedMeasurementAdmin(admin.ModelAdmin[ArchivedMeasurement]):
    """Readings moved out by `archive_measurements`: kept for the record, never edited."""

    list_display = ["timestamp", "room_id", "sensor", "value", "archived_at"]
    raw_id_fields = ["room"]
    search_fields = ["room__room_id"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    sortable_by = ()
    ordering = ["-id"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ArchivedMeasurement], search_term: str
    ) -> tuple[QuerySet[ArchivedMeasurement], bool]:
        term = search_term.strip()
        return (queryset.filter(room_id=term), False) if term else (queryset, False)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
