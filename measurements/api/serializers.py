"""Shapes of rooms, their range history and readings in the API (the query strings are in
`queries`)."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import FiniteFloatField, StrictCharField, TimestampField, utc_iso
from config.api.timestamps import TIMESTAMP_HELP

from ..durations import DURATION_HELP
from ..models import ROOM_ID_HELP, SENSOR_MAX_LENGTH, Measurement, RangeVersion, Room, RoomStatus
from ..selectors import Excursion
from ..units import STORED_UNIT, UNITS, UNITS_HELP, from_celsius
from .queries import ACTIVATION_ENERGY_HELP, METHOD_HELP, METHODS

STATUS_HELP = (
    "`no_data` (no reading), `stale` (the newest reading is older than `ROOM_STALE_AFTER`, "
    "15 minutes by default), else by the newest instant (the mean of the readings at the "
    "newest timestamp) against the range in force at it: `no_range` (none), `low`, `high` or "
    "`ok` (a value exactly on a bound is `ok`)."
)


class ReadingInSerializer(serializers.Serializer[Any]):
    """One posted reading (documents what `parse_reading` accepts)."""

    value = serializers.FloatField(
        help_text="A finite JSON number in `unit`, not below absolute zero."
    )
    unit = serializers.ChoiceField(choices=list(UNITS), default="C", help_text=UNITS_HELP)
    timestamp = TimestampField(
        required=False,
        help_text=f"{TIMESTAMP_HELP} Default: when the request arrived (one reading); "
        "required in an array.",
    )
    sensor = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=SENSOR_MAX_LENGTH,
        default="",
        help_text="Optional name of the source (0–64 characters, no control characters).",
    )


def _value_in(value: float | None, context: dict[str, Any]) -> float | None:
    return None if value is None else from_celsius(value, context.get("unit", STORED_UNIT))


class ReadingSerializer(serializers.ModelSerializer[Measurement]):
    """A stored reading, its value in the requested unit (°C by default)."""

    room_id = serializers.CharField(read_only=True, help_text=ROOM_ID_HELP)
    timestamp = TimestampField(read_only=True)
    value = serializers.SerializerMethodField(
        "value_in_unit", help_text="The temperature in `unit`."
    )
    unit = serializers.SerializerMethodField("requested_unit", help_text=UNITS_HELP)

    class Meta:
        model = Measurement
        fields = ["room_id", "timestamp", "value", "unit", "sensor"]
        read_only_fields = fields

    @extend_schema_field(serializers.FloatField())
    def value_in_unit(self, measurement: Measurement) -> float | None:
        return _value_in(measurement.value, self.context)

    @extend_schema_field(serializers.ChoiceField(choices=list(UNITS)))
    def requested_unit(self, measurement: Measurement) -> str:
        return str(self.context.get("unit", STORED_UNIT))

    def to_representation(self, instance: Measurement) -> dict[str, Any]:
        # The fields above describe the shape (OpenAPI, the browsable API); this builds the
        # same dict without DRF building and walking them on every request (a third of a
        # posted reading's time in our layer). `test_lean_representations` keeps them equal.
        return {
            "room_id": instance.room_id,
            "timestamp": utc_iso(instance.timestamp),
            "value": self.value_in_unit(instance),
            "unit": self.requested_unit(instance),
            "sensor": instance.sensor,
        }


class IngestResultSerializer(serializers.Serializer[Any]):
    """What posting an array of readings did."""

    room_id = serializers.CharField(help_text=ROOM_ID_HELP)
    created = serializers.IntegerField(help_text="Readings newly stored.")
    duplicates = serializers.IntegerField(
        help_text="Readings whose (timestamp, sensor) was already stored or repeated in the array."
    )


class ReadingErrorSerializer(serializers.Serializer[Any]):
    """A 400 for an array: the first bad reading, and every bad reading's errors by index.

    Every field is optional in the schema: a single reading's 400 is keyed by field instead
    (`{"value": ["…"]}`), and the schema must allow both (the fuzzer caught it refusing that).
    """

    detail = serializers.CharField(
        required=False, help_text="What is wrong with the first bad reading."
    )
    index = serializers.IntegerField(
        required=False, help_text="Index of the first bad reading in the array."
    )
    errors_ = serializers.DictField(
        required=False,
        child=serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        help_text='Errors by index then field, e.g. `{"3": {"value": ["…"]}}`.',
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # `errors` is a Serializer attribute; the field is declared as `errors_` and renamed.
        fields["errors"] = fields.pop("errors_")
        return fields


class AverageSerializer(serializers.Serializer[Any]):
    """Statistics of a room's readings over `[from, to]`, in `unit`."""

    room_id = serializers.CharField(help_text=ROOM_ID_HELP)
    duration = serializers.CharField(help_text="The window's length, ISO 8601 (e.g. `PT1H`).")
    from_ = TimestampField(help_text="Start of the window (inclusive): `to` minus `duration`.")
    to = TimestampField(help_text="End of the window (inclusive): when the request was answered.")
    unit = serializers.ChoiceField(choices=list(UNITS), help_text=UNITS_HELP)
    average = serializers.FloatField(
        allow_null=True,
        help_text="Null when `count` is 0 (`time_weighted`, `mkt`: and no reading before the "
        "window). With `method=mkt`, the mean kinetic temperature.",
    )
    min = serializers.FloatField(allow_null=True, help_text="Null when `count` is 0.")
    max = serializers.FloatField(allow_null=True, help_text="Null when `count` is 0.")
    count = serializers.IntegerField(help_text="Readings in the window.")
    method = serializers.ChoiceField(choices=list(METHODS), help_text=METHOD_HELP)
    activation_energy = serializers.FloatField(
        required=False, help_text=f"Only with `method=mkt`. {ACTIVATION_ENERGY_HELP}"
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        # `from` is a Python keyword; the field is declared as `from_` and renamed here.
        fields["from"] = fields.pop("from_")
        ordered = [
            "room_id",
            "duration",
            "from",
            "to",
            "unit",
            "average",
            "min",
            "max",
            "count",
            "method",
            "activation_energy",
        ]
        return {name: fields[name] for name in ordered}

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if data.get("activation_energy") is None:
            data.pop("activation_energy", None)
        return data


class BucketSerializer(serializers.Serializer[Any]):
    """The readings of one bucket of a series."""

    start = TimestampField(help_text="Start of the bucket (aligned to the UTC epoch).")
    average = serializers.FloatField()
    min = serializers.FloatField()
    max = serializers.FloatField()
    count = serializers.IntegerField(help_text="Readings in the bucket (never 0).")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # As the fields above write it, built directly: a week in hours is 168 buckets, and
        # DRF's field walk per bucket was most of the series' time in our layer.
        # `test_lean_representations` keeps the two equal.
        get = instance.get if isinstance(instance, dict) else instance.__getattribute__
        start, count = get("start"), get("count")
        return {
            "start": None if start is None else utc_iso(start),
            **{key: _value_in(_float(get(key)), self.context) for key in ("average", "min", "max")},
            "count": None if count is None else int(count),
        }


def _float(value: Any) -> float | None:
    """As `FloatField` writes a value (DRF writes None as null without the field)."""
    return None if value is None else float(value)


class LastReadingSerializer(serializers.Serializer[Any]):
    """A room's newest instant, in the requested unit (°C by default)."""

    timestamp = TimestampField(help_text="The newest reading's timestamp.")
    value = serializers.FloatField(
        help_text="The mean of the readings at that instant (one per sensor that read then)."
    )
    unit = serializers.ChoiceField(choices=list(UNITS))


class RoomSerializer(serializers.ModelSerializer[Room]):
    """A room, its acceptable range, its status and its latest reading (null when none)."""

    created_at = TimestampField(read_only=True)
    min_c = serializers.FloatField(
        allow_null=True, help_text="Lowest acceptable temperature (°C, whatever `unit`); or null."
    )
    max_c = serializers.FloatField(
        allow_null=True, help_text="Highest acceptable temperature (°C, whatever `unit`); or null."
    )
    # Annotated by `Room.objects.with_status()`.
    status = serializers.ChoiceField(choices=RoomStatus.choices, help_text=STATUS_HELP)
    last_reading = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = ["room_id", "name", "created_at", "min_c", "max_c", "status", "last_reading"]
        read_only_fields = fields

    @extend_schema_field(LastReadingSerializer(allow_null=True))
    def get_last_reading(self, room: Room) -> dict[str, Any] | None:
        # Annotated by `Room.objects.with_last_reading()`.
        timestamp = getattr(room, "last_timestamp", None)
        if timestamp is None:
            return None
        return {
            "timestamp": utc_iso(timestamp),
            "value": _value_in(_float(room.last_value), self.context),  # type: ignore[attr-defined]
            "unit": self.context.get("unit", STORED_UNIT),
        }

    def to_representation(self, instance: Room) -> dict[str, Any]:
        # As the fields above write it, built directly: a page is 50 rooms, and DRF's field
        # walk per room (and a LastReadingSerializer built per room) was most of the list's
        # time in our layer. `test_lean_representations` keeps the two equal.
        return {
            "room_id": instance.room_id,
            "name": instance.name,
            "created_at": utc_iso(instance.created_at),
            "min_c": _float(instance.min_c),
            "max_c": _float(instance.max_c),
            "status": instance.status,  # type: ignore[attr-defined]
            "last_reading": self.get_last_reading(instance),
        }


class RoomUpdateSerializer(serializers.Serializer[Any]):
    """What `PATCH /api/rooms/{room_id}` accepts: any subset of these."""

    name = StrictCharField(
        required=False, allow_blank=True, trim_whitespace=False, help_text="At most 200 characters."
    )
    min_c = FiniteFloatField(
        required=False,
        allow_null=True,
        help_text="Lowest acceptable temperature, °C (a JSON number), or null to clear the range.",
    )
    max_c = FiniteFloatField(
        required=False,
        allow_null=True,
        help_text="Highest acceptable temperature, °C, above `min_c`; or null to clear the range.",
    )
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        help_text="Why the range changes: required (not blank) when the room has had a range "
        "(a change, a clearing, a range set again after a clearing); kept in the range history. "
        "The first range needs none.",
    )
    alarm_delay = StrictCharField(
        required=False,
        help_text=f"How long readings stay outside the range before an alarm: {DURATION_HELP} "
        "Zero (`0s`, `PT0S`) is allowed: the first reading outside raises it.",
    )
    alarm_deadband_c = FiniteFloatField(
        required=False, help_text="°C back inside the range before an alarm clears (≥ 0)."
    )
    alarms_enabled = serializers.BooleanField(
        required=False, help_text="False: the room raises no alarm of any kind."
    )


class RangeVersionSerializer(serializers.ModelSerializer[RangeVersion]):
    """One version of a room's acceptable range, as it was set (°C)."""

    min_c = serializers.FloatField(allow_null=True, help_text="°C; null: the range was cleared.")
    max_c = serializers.FloatField(allow_null=True, help_text="°C; null: the range was cleared.")
    changed_at = TimestampField(help_text="When it was set (server time); in force from then.")
    changed_by = serializers.CharField(
        allow_null=True, help_text="The username who set it; null when unknown (a migration)."
    )
    reason = serializers.CharField(help_text="Why; empty only for version 1.")

    class Meta:
        model = RangeVersion
        fields = ["version", "min_c", "max_c", "changed_at", "changed_by", "reason"]
        read_only_fields = fields


class ExcursionSerializer(serializers.Serializer[Any]):
    """One run of consecutive instants outside the range in force at each, on one side."""

    kind = serializers.ChoiceField(choices=["high", "low"], help_text="Above `max` or below `min`.")
    start = TimestampField(help_text="The run's first reading.")
    end = TimestampField(
        allow_null=True,
        help_text="The first reading after the run; null when no reading after it falls inside "
        "`[from, to]` (still going on as far as the answer looks).",
    )
    peak = serializers.FloatField(
        help_text="The run's highest (`high`) or lowest (`low`) stored reading."
    )
    readings = serializers.IntegerField(help_text="Stored readings in the run (every sensor).")
    started_before = serializers.BooleanField(
        help_text="The reading just before `from` was outside on the same side: the run began "
        "before the window (`start` is its first reading inside it)."
    )

    def to_representation(self, instance: Excursion) -> dict[str, Any]:
        # As the fields above write it (the peak then converted to `unit`), built directly: a
        # week of a room that swings across its range is over a hundred excursions, and DRF's
        # field walk per excursion was half the route's time in our layer.
        # `test_lean_representations` keeps the two equal.
        return {
            "kind": instance.kind,
            "start": utc_iso(instance.start),
            "end": None if instance.end is None else utc_iso(instance.end),
            "peak": _value_in(float(instance.peak), self.context),
            "readings": int(instance.readings),
            "started_before": bool(instance.started_before),
        }


class ExcursionsSerializer(serializers.Serializer[Any]):
    """A room's excursions outside its acceptable range over `[from, to]`, oldest first."""

    room_id = serializers.CharField(help_text=ROOM_ID_HELP)
    from_ = TimestampField(help_text="Start of the window (inclusive).")
    to = TimestampField(help_text="End of the window (inclusive).")
    unit = serializers.ChoiceField(choices=list(UNITS), help_text=UNITS_HELP)
    min = serializers.FloatField(
        allow_null=True, help_text="The minimum of the range in force at `to`, in `unit`."
    )
    max = serializers.FloatField(
        allow_null=True, help_text="The maximum of the range in force at `to`, in `unit`."
    )
    excursions = ExcursionSerializer(
        many=True, help_text="Empty when no range was in force in the window."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        ordered = ["room_id", "from", "to", "unit", "min", "max", "excursions"]
        return {name: fields[name] for name in ordered}

    def to_representation(self, instance: dict[str, Any]) -> dict[str, Any]:
        # As the fields above write it, built directly: the field walk copies every declared
        # field (the nested list's too) on each request. `test_lean_representations` keeps
        # the two equal.
        excursion = ExcursionSerializer(context=self.context)
        return {
            "room_id": instance["room_id"],
            "from": utc_iso(instance["from"]),
            "to": utc_iso(instance["to"]),
            "unit": instance["unit"],
            "min": _float(instance["min"]),
            "max": _float(instance["max"]),
            "excursions": [excursion.to_representation(e) for e in instance["excursions"]],
        }
