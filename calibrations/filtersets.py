"""Query-string filters of the calibrations list."""

from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters

from config.api.fields import TimestampFilter
from tagging.models import Tag

from .models import Calibration


class CalibrationFilterSet(filters.FilterSet):
    """`username`, `calibration_type`, `timestamp` (exact), `timestamp_after`/`_before`, `tag`."""

    username = filters.CharFilter(field_name="username", help_text="Who did the calibration.")
    calibration_type = filters.CharFilter(
        field_name="calibration_type__name", help_text="Calibration type name, e.g. `gain`."
    )
    timestamp = TimestampFilter(field_name="timestamp", lookup_expr="exact")
    timestamp_after = TimestampFilter(
        field_name="timestamp", lookup_expr="gte", label="Done at or after this instant."
    )
    timestamp_before = TimestampFilter(
        field_name="timestamp", lookup_expr="lte", label="Done at or before this instant."
    )
    tag = filters.CharFilter(method="filter_tag", help_text="Carries this tag now (any case).")

    class Meta:
        model = Calibration
        fields = [
            "username",
            "calibration_type",
            "timestamp",
            "timestamp_after",
            "timestamp_before",
            "tag",
        ]

    def filter_tag(
        self, queryset: QuerySet[Calibration], name: str, value: str
    ) -> QuerySet[Calibration]:
        return queryset.carrying(Tag.objects.named(value.strip()), as_of=timezone.now())  # type: ignore[attr-defined]


class TaggedCalibrationFilterSet(filters.FilterSet):
    """Filters of the calibrations carrying one tag: `username`, `calibration_type`."""

    username = filters.CharFilter(field_name="username", help_text="Who did the calibration.")
    calibration_type = filters.CharFilter(
        field_name="calibration_type__name", help_text="Calibration type name, e.g. `gain`."
    )

    class Meta:
        model = Calibration
        fields = ["username", "calibration_type"]
