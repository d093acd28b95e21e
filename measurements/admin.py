"""Rooms and readings in the operator console, fast on tables of millions of readings."""

from datetime import timedelta
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from config.admin import DateRangeListFilter, EstimatedCountPaginator, PageContextAdmin

from . import clock
from .charts import temperature_chart
from .models import ArchivedMeasurement, Measurement, Room

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


@admin.register(Room)
class RoomAdmin(PageContextAdmin[Room]):
    list_display = ["room_id", "name", "last_reading_at", "last_value", "created_at"]
    search_fields = ["room_id", "name"]
    search_help_text = "Part of a room id or name."
    readonly_fields = ["created_at"]
    ordering = ["room_id"]
    change_form_template = "admin/measurements/room/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Room]:
        # Each room's latest reading: one index probe per row of the page, in the same query.
        return Room.objects.with_last_reading()

    def get_readonly_fields(self, request: HttpRequest, obj: Room | None = None) -> list[str]:
        # A room's id is how its sensors address it: fixed once readings exist.
        return ["room_id", "created_at"] if obj else ["created_at"]

    @admin.display(description="Last reading", ordering="last_timestamp")
    def last_reading_at(self, room: Room) -> Any:
        return room.last_timestamp  # type: ignore[attr-defined]

    @admin.display(description="Last value")
    def last_value(self, room: Room) -> str:
        value = room.last_value  # type: ignore[attr-defined]
        return "-" if value is None else f"{value:.2f} °C"

    def page_context(self, request: HttpRequest, room: Room) -> dict[str, Any]:
        now = clock.now()
        key = request.GET.get("chart", DEFAULT_CHART)
        if key not in CHART_PERIODS:
            key = DEFAULT_CHART
        label, period, bucket, bucket_label = CHART_PERIODS[key]
        buckets = Measurement.objects.window(room, now - period, now).buckets(bucket)
        averages = [
            {
                "key": k,
                "label": name,
                **Measurement.objects.window(room, now - span, now).summary(),
            }
            for k, name, span in AVERAGES
        ]
        return {
            "chart": temperature_chart(
                buckets, now - period, now, title=f"{room.room_id}: {label.lower()}"
            ),
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
