"""The query strings of the measurements routes: unit, method, window, buckets."""

from datetime import datetime, timedelta
from typing import Any

from rest_framework import serializers

from config.api.fields import TimestampField
from config.api.query import QuerySerializer
from config.api.timestamps import TIMESTAMP_HELP

from .. import clock
from ..durations import DURATION_HELP, DurationError, parse_duration
from ..models import EPOCH
from ..selectors import DEFAULT_ACTIVATION_ENERGY, MAX_ACTIVATION_ENERGY
from ..units import UNITS, UNITS_HELP

MAX_BUCKETS = 10_000
# The window of the series and excursions routes when `from` is not given: `to` − 7 days.
DEFAULT_SPAN = timedelta(days=7)
METHODS = ("mean", "time_weighted", "mkt")
METHOD_HELP = (
    "`mean` (default): the arithmetic mean of the readings in the window. `time_weighted`: "
    "each instant's reading (the mean of the sensors that read at that instant) holds until "
    "the next one, the last until the window's end, and the last reading before the window "
    "covers its start. `mkt`: the mean kinetic temperature (USP <1160>) of the readings "
    "weighted by time exactly so, with `activation_energy`. `min`, `max` and `count` are "
    "those of the readings in the window."
)
ACTIVATION_ENERGY_HELP = (
    "ΔH for `method=mkt`, in kJ/mol: above 0, at most 1,000. Default 83.144 (ΔH/R = "
    "10,000 K). Checked whatever the method; used only by `mkt`."
)


class ActivationEnergyField(serializers.FloatField):
    """`activation_energy` (kJ/mol): a number in (0, 1000]."""

    default_error_messages = {
        "out_of_range": "Must be above 0 and at most 1,000 (kJ/mol).",
    }

    def to_internal_value(self, data: Any) -> float:
        value = float(super().to_internal_value(data))
        # Also refuses NaN and the infinities, which compare false.
        if not 0 < value <= MAX_ACTIVATION_ENERGY:
            self.fail("out_of_range")
        return value


class UnitQuerySerializer(QuerySerializer):
    """The `unit` query parameter: the unit of the temperatures in the answer."""

    unit = serializers.ChoiceField(choices=list(UNITS), default="C", help_text=UNITS_HELP)


class MethodQuerySerializer(UnitQuerySerializer):
    """`unit`, and `method`: how the average is taken (with `activation_energy` for MKT)."""

    method = serializers.ChoiceField(choices=list(METHODS), default="mean", help_text=METHOD_HELP)
    activation_energy = ActivationEnergyField(
        default=DEFAULT_ACTIVATION_ENERGY, help_text=ACTIVATION_ENERGY_HELP
    )


class AverageQuerySerializer(MethodQuerySerializer):
    """The query of the average route (the duration is in the path: see `DURATION_HELP`)."""


class ExcursionsQuerySerializer(UnitQuerySerializer):
    """The query of the excursions route: a `from`/`to` window (the series route's too); `to`
    defaults to now and `from` to `to` − 7 days."""

    from_ = TimestampField(
        required=False, help_text=f"Start (inclusive). {TIMESTAMP_HELP} Default: `to` − 7 days."
    )
    to = TimestampField(
        required=False, help_text=f"End (inclusive). {TIMESTAMP_HELP} Default: now."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # `from` is a Python keyword; the field is declared as `from_` and renamed here.
        fields["from"] = fields.pop("from_")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end: datetime = attrs.get("to") or clock.now()
        try:
            start: datetime = attrs.get("from") or end - DEFAULT_SPAN
        except OverflowError:
            raise serializers.ValidationError(
                {"to": ["Too early to start a default window before it."]}
            ) from None
        if start > end:
            raise serializers.ValidationError({"from": ["`from` must not be after `to`."]})
        return {**attrs, "from": start, "to": end}


class SeriesQuerySerializer(MethodQuerySerializer, ExcursionsQuerySerializer):
    """The query of the series route: the window, and the width of its buckets (at most
    10,000 between `from` and `to`); validated, it adds `width`."""

    bucket = serializers.CharField(
        required=False, default="1h", help_text=f"Width of each bucket. {DURATION_HELP}"
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            width = parse_duration(attrs["bucket"])
        except DurationError as exc:
            raise serializers.ValidationError({"bucket": [str(exc)]}) from None
        attrs = super().validate(attrs)
        start, end = attrs["from"], attrs["to"]
        try:
            # The first bucket starts at or before `from`; it must be a representable instant.
            EPOCH + (start - EPOCH) // width * width
        except OverflowError:
            raise serializers.ValidationError(
                {"from": ["Too early: the first bucket would start before the year 1."]}
            ) from None
        count = (end - EPOCH) // width - (start - EPOCH) // width + 1
        if count > MAX_BUCKETS:
            raise serializers.ValidationError(
                {
                    "bucket": [
                        f"{count:,} buckets between `from` and `to`; at most {MAX_BUCKETS:,}. "
                        "Use a wider bucket or a shorter span."
                    ]
                }
            )
        return {**attrs, "width": width}
