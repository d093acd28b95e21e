"""Rooms, and the temperature readings their sensors post (stored in degrees Celsius)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypedDict

from django.core.validators import RegexValidator
from django.db import connection, models
from django.db.models import Avg, Count, F, Max, Min, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from .status import NewestInstant, NewestInstantStatus, RangeInForce, RoomStatus
from .units import ABSOLUTE_ZERO_C, MAX_CELSIUS

ROOM_ID_MAX_LENGTH = 64
# `\A…\Z` in Python (where `$` would also match before a trailing newline), `^…$` in SQL.
ROOM_ID_PATTERN = r"\A[A-Za-z0-9._-]{1,64}\Z"
ROOM_ID_SQL_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
ROOM_ID_HELP = "1–64 letters, digits, `.`, `_` or `-`; case-sensitive."
SENSOR_MAX_LENGTH = 64
# The largest finite double: `value <=` this also excludes NaN on PostgreSQL (NaN sorts last).
MAX_FINITE = 1.7976931348623157e308
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ROOM_RANGE_MESSAGE = (
    "A range needs both bounds (or neither), the minimum below the maximum, both finite, "
    "from −273.15 °C to 1,000,000 °C."
)

validate_room_id = RegexValidator(
    ROOM_ID_PATTERN,
    message="A room id is 1–64 letters, digits, '.', '_' or '-'.",
    code="invalid_room_id",
)


def _range_valid() -> Q:
    """Both bounds or neither; min below max; both between absolute zero and the plausibility
    bound of readings, which also makes them finite (NaN sorts above every number on
    PostgreSQL, so `max_c <= …` refuses it, and `min_c < max_c` then refuses a NaN minimum)."""
    return Q(min_c__isnull=True, max_c__isnull=True) | Q(
        min_c__isnull=False,
        max_c__isnull=False,
        min_c__lt=F("max_c"),
        min_c__gte=ABSOLUTE_ZERO_C,
        max_c__lte=MAX_CELSIUS,
    )


class RoomQuerySet(models.QuerySet["Room"]):
    def with_status(self, *, now: datetime, stale_after: timedelta) -> "RoomQuerySet":
        """Rooms with their newest instant (`last_timestamp`, `last_value`) and `status`, a
        RoomStatus value computed by the database, so a page of rooms is one query."""
        # The status is its own subquery rather than a CASE over the two annotations: Django
        # inlines an annotation's subquery every time an expression refers to it.
        status = NewestInstantStatus(
            readings=Measurement, ranges=RangeVersion, stale_before=now - stale_after
        )
        return self.with_last_reading().annotate(
            status=Coalesce(
                status, models.Value(RoomStatus.NO_DATA), output_field=models.CharField()
            )
        )

    def with_last_reading(self) -> "RoomQuerySet":
        """Rooms annotated with `last_timestamp`, their newest instant, and `last_value`, the
        mean (°C) of the readings at it: one instant is one reading (DESIGN §4.5)."""
        return self.annotate(
            last_timestamp=NewestInstant(readings=Measurement, mean=False),
            last_value=NewestInstant(readings=Measurement, mean=True),
        )

    def with_range_at(self, at: datetime) -> "RoomQuerySet":
        """Rooms annotated with `range_min_c`/`range_max_c`: the range in force at `at` (null
        when none), by the rule of `selectors.range_in_force`."""
        return self.annotate(
            range_min_c=RangeInForce(ranges=RangeVersion, bound="min_c", at=at),
            range_max_c=RangeInForce(ranges=RangeVersion, bound="max_c", at=at),
        )


class Room(models.Model):
    """A room whose temperature is measured; created by its first reading."""

    room_id = models.CharField(
        primary_key=True,
        max_length=ROOM_ID_MAX_LENGTH,
        validators=[validate_room_id],
        help_text=ROOM_ID_HELP,
    )
    name = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    min_c = models.FloatField(
        null=True,
        blank=True,
        verbose_name="minimum (°C)",
        help_text="Lowest acceptable temperature, °C; set both bounds or neither.",
    )
    max_c = models.FloatField(
        null=True,
        blank=True,
        verbose_name="maximum (°C)",
        help_text="Highest acceptable temperature, °C; above the minimum.",
    )
    # The room's alarm rules (DESIGN §3): they describe the room, as its range does; the
    # monitoring app reads them.
    alarm_delay = models.DurationField(
        default=timedelta(0),
        help_text="How long readings stay outside the range before an alarm is raised (0: at once).",
    )
    alarm_deadband_c = models.FloatField(
        default=0.0,
        verbose_name="alarm deadband (°C)",
        help_text="An alarm clears only once a reading is this far back inside the range.",
    )
    alarms_enabled = models.BooleanField(
        default=True, help_text="Off: the room raises no alarm of any kind."
    )

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["room_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(room_id__regex=ROOM_ID_SQL_PATTERN),
                name="measurements_room_id_valid",
                violation_error_message="A room id is 1–64 letters, digits, '.', '_' or '-'.",
            ),
            models.CheckConstraint(
                condition=_range_valid(),
                name="measurements_room_range_valid",
                violation_error_message=ROOM_RANGE_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(alarm_delay__gte=timedelta(0)),
                name="measurements_room_alarm_delay_not_negative",
                violation_error_message="An alarm delay cannot be negative.",
            ),
            # `<=` the plausibility bound also refuses NaN on PostgreSQL (NaN sorts last).
            models.CheckConstraint(
                condition=Q(alarm_deadband_c__gte=0) & Q(alarm_deadband_c__lte=MAX_CELSIUS),
                name="measurements_room_alarm_deadband_valid",
                violation_error_message="An alarm deadband is a finite number of °C, not negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} ({self.name})" if self.name else self.room_id


class RangeVersionQuerySet(models.QuerySet["RangeVersion"]):
    def of_room(self, room: "Room | str") -> "RangeVersionQuerySet":
        """A room's versions, oldest first (the range history)."""
        room_id = room.pk if isinstance(room, Room) else room
        return self.filter(room_id=room_id).order_by("version")


class RangeVersion(models.Model):
    """One state of a room's acceptable range: the room's range history (DESIGN §3).

    Written only by `services.room_update`, in the transaction that changes the room's range;
    never updated or deleted. The room's `min_c`/`max_c` are its newest version.
    """

    id = models.BigAutoField(primary_key=True)
    # No index of its own: the unique (room, version) index leads with it.
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="range_versions", db_index=False
    )
    version = models.PositiveIntegerField()
    min_c = models.FloatField(null=True, blank=True, verbose_name="minimum (°C)")
    max_c = models.FloatField(null=True, blank=True, verbose_name="maximum (°C)")
    changed_at = models.DateTimeField(help_text="Server time of the change.")
    # The username as text, like a signature on paper (as a calibration version's). Null
    # when no signed-in user made the change (a migration, a command).
    changed_by = models.CharField(  # noqa: DJ001 (DESIGN §3: null when there is none)
        max_length=150, null=True, blank=True
    )
    reason = models.TextField(blank=True, default="")

    objects = RangeVersionQuerySet.as_manager()

    class Meta:
        ordering = ["room", "version"]
        constraints = [
            # Also the index every judge of readings reads a room's versions by.
            models.UniqueConstraint(
                fields=["room", "version"],
                name="measurements_rangeversion_room_version_uniq",
                violation_error_message="This version of the room's range already exists.",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1),
                name="measurements_rangeversion_version_positive",
                violation_error_message="Versions are numbered from 1.",
            ),
            # Only the first range may come without a reason (nobody judged anything before).
            models.CheckConstraint(
                condition=Q(version=1) | Q(reason__regex=r"\S"),
                name="measurements_rangeversion_reason_after_first",
                violation_error_message="Every change of a range after the first needs a reason.",
            ),
            models.CheckConstraint(
                condition=_range_valid(),
                name="measurements_rangeversion_range_valid",
                violation_error_message=ROOM_RANGE_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room_id} range v{self.version}"


class Summary(TypedDict):
    """Average, min and max in °C (None when no reading) and how many readings."""

    average: float | None
    min: float | None
    max: float | None
    count: int


@dataclass(frozen=True)
class Bucket:
    """The readings of one bucket of a series: its start and their statistics (°C)."""

    start: datetime
    average: float
    min: float
    max: float
    count: int


class DateBin(models.Func):
    """PostgreSQL's `date_bin(stride, source, origin)`: the start of the bucket holding source."""

    function = "DATE_BIN"
    output_field = models.DateTimeField()


class MeasurementQuerySet(models.QuerySet["Measurement"]):
    def window(self, room: "Room | str", start: datetime, end: datetime) -> "MeasurementQuerySet":
        """Readings of `room` with `start <= timestamp <= end` (both ends inclusive)."""
        room_id = room.pk if isinstance(room, Room) else room
        # A range over the unique index's leading (room, timestamp) columns.
        return self.filter(room_id=room_id, timestamp__gte=start, timestamp__lte=end)

    def summary(self) -> Summary:
        """Average, min, max (°C) and count of these readings, in one aggregate query."""
        # COUNT(*) rather than COUNT(value) keeps the scan index-only on PostgreSQL.
        result: dict[str, Any] = self.order_by().aggregate(
            average=Avg("value"), min=Min("value"), max=Max("value"), count=Count("*")
        )
        return Summary(
            average=result["average"],
            min=result["min"],
            max=result["max"],
            count=result["count"] or 0,
        )

    def buckets(self, width: timedelta) -> list[Bucket]:
        """Statistics per `width`-wide bucket aligned to the UTC epoch, oldest first; empty
        buckets are left out. Bucketed by the database on PostgreSQL, in Python elsewhere."""
        if connection.vendor == "postgresql":
            rows = (
                self.order_by()
                .annotate(
                    start=DateBin(
                        models.Value(width, output_field=models.DurationField()),
                        "timestamp",
                        models.Value(EPOCH, output_field=models.DateTimeField()),
                    )
                )
                .values("start")
                .annotate(
                    average=Avg("value"), min=Min("value"), max=Max("value"), count=Count("*")
                )
                .order_by("start")
            )
            return [Bucket(**row) for row in rows]
        return _buckets_in_python(
            self.order_by("timestamp").values_list("timestamp", "value").iterator(), width
        )


def _buckets_in_python(rows: Iterable[tuple[datetime, float]], width: timedelta) -> list[Bucket]:
    """The portable bucketing: exact integer arithmetic on microseconds since the epoch."""
    step = width // timedelta(microseconds=1)
    buckets: list[Bucket] = []
    start: datetime | None = None
    total = 0.0
    low = high = 0.0
    count = 0
    for timestamp, value in rows:
        offset = (timestamp - EPOCH) // timedelta(microseconds=1)
        bucket_start = EPOCH + timedelta(microseconds=(offset // step) * step)
        if bucket_start != start:
            if start is not None:
                buckets.append(Bucket(start, total / count, low, high, count))
            start, total, low, high, count = bucket_start, 0.0, value, value, 0
        total += value
        low = min(low, value)
        high = max(high, value)
        count += 1
    if start is not None:
        buckets.append(Bucket(start, total / count, low, high, count))
    return buckets


class CoveringUniqueConstraint(models.UniqueConstraint):
    """A unique constraint that INCLUDEs its extra columns where the database can (PostgreSQL)
    and is a plain unique constraint elsewhere (SQLite), where Django would skip it entirely."""

    def _portable(self, schema_editor: Any) -> models.UniqueConstraint | None:
        include = getattr(self, "include", ())
        if not include or schema_editor.connection.features.supports_covering_indexes:
            return None
        return models.UniqueConstraint(
            fields=self.fields, name=self.name, violation_error_message=self.violation_error_message
        )

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        portable = self._portable(schema_editor)
        if portable is not None:
            return portable.constraint_sql(model, schema_editor)
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        portable = self._portable(schema_editor)
        if portable is not None:
            return portable.create_sql(model, schema_editor)
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        portable = self._portable(schema_editor)
        if portable is not None:
            return portable.remove_sql(model, schema_editor)
        return super().remove_sql(model, schema_editor)


class Measurement(models.Model):
    """One temperature reading of a room at an instant, from a sensor, in degrees Celsius."""

    id = models.BigAutoField(primary_key=True)
    # No separate index: the unique constraint's index leads with the room.
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="measurements", db_index=False
    )
    timestamp = models.DateTimeField()
    sensor = models.CharField(
        max_length=SENSOR_MAX_LENGTH, blank=True, default="", help_text="Source of the reading."
    )
    value = models.FloatField(help_text="Degrees Celsius.")

    objects = MeasurementQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            # A retried post of the same reading is stored once. INCLUDE (value) makes the
            # window aggregate of one room an index-only range scan on PostgreSQL.
            CoveringUniqueConstraint(
                fields=["room", "timestamp", "sensor"],
                include=["value"],
                name="measurement_room_ts_sensor_uniq",
                violation_error_message="This reading (room, timestamp, sensor) is already stored.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=ABSOLUTE_ZERO_C),
                name="measurements_measurement_value_above_absolute_zero",
                violation_error_message="A temperature cannot be below absolute zero (-273.15 °C).",
            ),
            # The 1,000,000 °C plausibility bound lives in units.to_celsius (every write goes
            # through it); the database guarantees a finite number.
            models.CheckConstraint(
                condition=Q(value__lte=MAX_FINITE),
                name="measurements_measurement_value_finite",
                violation_error_message="The value must be a finite number.",
            ),
        ]

    def __str__(self) -> str:
        sensor = f" [{self.sensor}]" if self.sensor else ""
        return f"{self.room_id} {self.timestamp:%Y-%m-%d %H:%M:%S} {self.value:g} °C{sensor}"


class ArchivedMeasurement(models.Model):
    """A reading `archive_measurements` moved out of the live table: kept, no longer counted."""

    id = models.BigAutoField(primary_key=True)
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="archived_measurements", db_index=False
    )
    timestamp = models.DateTimeField()
    sensor = models.CharField(max_length=SENSOR_MAX_LENGTH, blank=True, default="")
    value = models.FloatField(help_text="Degrees Celsius.")
    archived_at = models.DateTimeField(help_text="When archive_measurements moved it.")

    class Meta:
        ordering = ["-id"]
        constraints = [
            # A reading is archived once, whatever runs overlap.
            models.UniqueConstraint(
                fields=["room", "timestamp", "sensor"],
                name="archived_measurement_room_ts_sensor_uniq",
            ),
        ]

    def __str__(self) -> str:
        sensor = f" [{self.sensor}]" if self.sensor else ""
        return f"{self.room_id} {self.timestamp:%Y-%m-%d %H:%M:%S} {self.value:g} °C{sensor}"
