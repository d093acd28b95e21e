"""Query-string filters of the alarms list."""

from django.db.models import QuerySet
from django_filters import rest_framework as filters

from config.api.fields import TimestampFilter
from config.api.query import FilterSet

from .models import Alarm, AlarmKind, AlarmState


class AlarmFilterSet(FilterSet):
    """`room_id`, `kind`, `state`, `raised_after` / `raised_before` (inclusive)."""

    room_id = filters.CharFilter(field_name="room_id", help_text="The room's id (exact).")
    kind = filters.ChoiceFilter(choices=AlarmKind.choices, help_text="high, low or no_data.")
    state = filters.ChoiceFilter(
        choices=AlarmState.choices,
        method="filter_state",
        help_text="active (not cleared), unacknowledged, open (active or unacknowledged), "
        "closed (cleared and acknowledged).",
    )
    raised_after = TimestampFilter(
        field_name="raised_at", lookup_expr="gte", label="Raised at or after this instant."
    )
    raised_before = TimestampFilter(
        field_name="raised_at", lookup_expr="lte", label="Raised at or before this instant."
    )

    class Meta:
        model = Alarm
        fields = ["room_id", "kind", "state", "raised_after", "raised_before"]

    def filter_state(self, queryset: QuerySet[Alarm], name: str, value: str) -> QuerySet[Alarm]:
        return queryset.in_state(value)  # type: ignore[attr-defined]
