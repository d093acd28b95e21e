"""Readings in the operator console, fast on tables of millions: lists that sort only along an
index, and the list as filtered downloaded as a CSV file (streamed)."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from config.admin import DateRangeListFilter, EstimatedCountPaginator

from .. import clock
from ..exports import readings_csv_response
from ..models import ArchivedMeasurement, Measurement, Room, validate_room_id


class ReadingRoomFilter(admin.SimpleListFilter):
    """One room's readings (`?room__exact=lab-1`, the room page's link): rooms are few."""

    title = "room"
    parameter_name = "room__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(pk, pk) for pk in Room.objects.order_by("room_id").values_list("pk", flat=True)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(room_id=self.value()) if self.value() else queryset


def _is_room_id(text: str) -> bool:
    try:
        validate_room_id(text)
    except ValidationError:
        return False
    return True


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
    change_list_template = "admin/measurements/measurement/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The readings of the list as filtered (its query string: a room, UTC dates, a
        search), oldest first, as CSV: the room page's download is this with its room."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            readings = self.get_changelist_instance(request).get_queryset(request)
        except IncorrectLookupParameters:
            # As the list itself answers a filter it cannot apply.
            return HttpResponseRedirect(
                reverse("admin:measurements_measurement_changelist") + "?" + ERROR_FLAG + "=1"
            )
        # Along an index, as the list reads: one room by time (the unique index), else by id.
        room = request.GET.get("room__exact") or request.GET.get("q", "").strip()
        order = ["timestamp", "sensor"] if room else ["id"]
        name = f"readings-{room}" if room and _is_room_id(room) else "readings"
        return readings_csv_response(readings.order_by(*order), name=name, at=clock.now())

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
