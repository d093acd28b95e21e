"""Query-string filters of a room's readings."""

from config.api.fields import TimestampFilter
from config.api.query import FilterSet

from .models import Measurement


class MeasurementFilterSet(FilterSet):
    """`from` and `to`: inclusive bounds on the reading's timestamp."""

    class Meta:
        model = Measurement
        fields: list[str] = []


# `from` is a Python keyword, so the two bounds are added by name rather than declared.
MeasurementFilterSet.base_filters["from"] = TimestampFilter(
    field_name="timestamp", lookup_expr="gte", label="Readings at or after this instant."
)
MeasurementFilterSet.base_filters["to"] = TimestampFilter(
    field_name="timestamp", lookup_expr="lte", label="Readings at or before this instant."
)
