"""Writes of rooms and readings: the API, the admin and the commands call these."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from . import clock
from .models import ROOM_RANGE_MESSAGE, SENSOR_MAX_LENGTH, Measurement, Room, validate_room_id
from .units import ABSOLUTE_ZERO_C, MAX_CELSIUS, to_celsius

# The most readings one statement inserts; also the most one API request may carry.
BATCH_SIZE = 10_000


@dataclass(frozen=True)
class Reading:
    """One reading as a client sends it: `value` in `unit` (C, F or K)."""

    timestamp: datetime
    value: float
    unit: str = "C"
    sensor: str = ""


class ReadingError(ValueError):
    """A reading that cannot be stored; `index` is its place in the batch (None for one)."""

    def __init__(self, index: int | None, field: str, message: str) -> None:
        where = f"Reading {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {message}")
        self.index = index
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RecordResult:
    """The stored reading, and whether this call stored it (False: it was already there)."""

    measurement: Measurement
    created: bool


@dataclass(frozen=True)
class IngestResult:
    """What ingesting a batch did: readings newly stored, and readings already there."""

    room_id: str
    created: int
    duplicates: int


def validate_sensor(sensor: object) -> str:
    """The sensor name if it is a string of at most 64 characters without control characters."""
    if not isinstance(sensor, str):
        raise ValueError("A sensor name must be a string.")
    if len(sensor) > SENSOR_MAX_LENGTH:
        raise ValueError(f"A sensor name has at most {SENSOR_MAX_LENGTH} characters.")
    # PostgreSQL text cannot hold NUL; other control characters are never a real name.
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in sensor):
        raise ValueError("A sensor name must not contain control characters.")
    return sensor


def room_get_or_create(*, room_id: str) -> Room:
    """The room with this id, created if new; safe against a concurrent first reading."""
    validate_room_id(room_id)
    # get_or_create retries the lookup when a concurrent insert wins the primary key.
    room, _ = Room.objects.get_or_create(room_id=room_id)
    return room


def _to_row(index: int | None, reading: Reading) -> tuple[datetime, str, float]:
    try:
        value = to_celsius(reading.value, reading.unit)
    except ValueError as exc:
        field = "unit" if reading.unit not in ("C", "F", "K") else "value"
        raise ReadingError(index, field, str(exc)) from None
    try:
        sensor = validate_sensor(reading.sensor)
    except ValueError as exc:
        raise ReadingError(index, "sensor", str(exc)) from None
    return reading.timestamp, sensor, value


@transaction.atomic
def reading_record(
    *,
    room_id: str,
    value: float,
    unit: str = "C",
    timestamp: datetime | None = None,
    sensor: str = "",
) -> RecordResult:
    """Store one reading (converted to °C) unless (room, timestamp, sensor) is already stored:
    then the stored one is returned unchanged (the first value stored wins)."""
    reading = Reading(timestamp=timestamp or clock.now(), value=value, unit=unit, sensor=sensor)
    instant, clean_sensor, celsius = _to_row(None, reading)
    room = room_get_or_create(room_id=room_id)
    # One INSERT … ON CONFLICT DO NOTHING RETURNING instead of get_or_create's SELECT, SAVEPOINT,
    # INSERT, RELEASE: half the round trips of the busiest write. A racing retry of the same
    # reading waits on the unique index for the other insert to commit, then finds it below.
    table = connection.ops.quote_name(Measurement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (room_id, "timestamp", sensor, value) VALUES (%s, %s, %s, %s)
            ON CONFLICT (room_id, "timestamp", sensor) DO NOTHING RETURNING id
            """,
            [room.pk, connection.ops.adapt_datetimefield_value(instant), clean_sensor, celsius],
        )
        row = cursor.fetchone()
    if row is not None:
        stored = Measurement(
            id=row[0], room=room, timestamp=instant, sensor=clean_sensor, value=celsius
        )
        return RecordResult(stored, created=True)
    existing = Measurement.objects.get(room=room, timestamp=instant, sensor=clean_sensor)
    return RecordResult(existing, created=False)


@transaction.atomic
def readings_ingest(*, room_id: str, readings: Sequence[Reading]) -> IngestResult:
    """Store a batch of readings for one room, all or nothing; a reading whose (timestamp,
    sensor) is already stored, or repeats an earlier one of the batch, counts as a duplicate."""
    rows: dict[tuple[datetime, str], float] = {}
    for index, reading in enumerate(readings):
        instant, sensor, celsius = _to_row(index, reading)
        # The first of repeated readings wins, as it would had they come one by one.
        rows.setdefault((instant, sensor), celsius)
    try:
        validate_room_id(room_id)
    except ValidationError as exc:
        raise ReadingError(None, "room_id", exc.messages[0]) from None
    if not readings:
        return IngestResult(room_id=room_id, created=0, duplicates=0)
    room_get_or_create(room_id=room_id)
    items = list(rows.items())
    created = 0
    for start in range(0, len(items), BATCH_SIZE):
        created += _insert_new(room_id, items[start : start + BATCH_SIZE])
    return IngestResult(room_id=room_id, created=created, duplicates=len(readings) - created)


def _insert_new(room_id: str, items: Sequence[tuple[tuple[datetime, str], float]]) -> int:
    """Insert the rows not already stored; return how many were new."""
    if connection.vendor == "postgresql":
        return _insert_new_postgresql(room_id, items)
    table = connection.ops.quote_name(Measurement._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        # Portable path (SQLite): one prepared statement run over the batch, in process.
        cursor.executemany(
            f"""
            INSERT INTO {table} (room_id, "timestamp", sensor, value) VALUES (%s, %s, %s, %s)
            ON CONFLICT (room_id, "timestamp", sensor) DO NOTHING
            """,
            [(room_id, adapt(key[0]), key[1], value) for key, value in items],
        )
        return cursor.rowcount


# A staging table per database session, created once per connection (not per batch, which
# would churn PostgreSQL's catalogs); each batch empties it in the statement that reads it.
_STAGE = "measurements_ingest_stage"


def _insert_new_postgresql(
    room_id: str, items: Sequence[tuple[tuple[datetime, str], float]]
) -> int:
    """Binary COPY of the batch into the session's staging table, then one INSERT … ON
    CONFLICT DO NOTHING from it: a constant number of round trips whatever the batch size,
    and about 1.6× the rows/s of unnesting three array parameters (see bench/)."""
    table = connection.ops.quote_name(Measurement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} "
            "(ts timestamptz NOT NULL, sensor text NOT NULL, value float8 NOT NULL)"
        )
        with cursor.cursor.copy(
            f"COPY {_STAGE} (ts, sensor, value) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["timestamptz", "text", "float8"])
            for (instant, sensor), value in items:
                copy.write_row((instant, sensor, value))
        cursor.execute(
            f"""
            WITH staged AS (DELETE FROM {_STAGE} RETURNING ts, sensor, value)
            INSERT INTO {table} (room_id, "timestamp", sensor, value)
            SELECT %s, ts, sensor, value FROM staged
            ON CONFLICT (room_id, "timestamp", sensor) DO NOTHING
            """,
            [room_id],
        )
        return cursor.rowcount


class _Unset:
    """Marks a field `room_update` was not asked to change (None means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
ROOM_NAME_MAX_LENGTH = Room._meta.get_field("name").max_length or 200


def validate_room_range(min_c: object, max_c: object) -> None:
    """A room's acceptable range: both bounds None, or both finite numbers (°C) with
    min_c < max_c, from absolute zero to 1,000,000 °C; ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    for field, bound in (("min_c", min_c), ("max_c", max_c)):
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            errors[field] = ["Must be a number (°C) or null."]
        elif not math.isfinite(bound):
            errors[field] = ["Must be a finite number (°C)."]
        elif not ABSOLUTE_ZERO_C <= bound <= MAX_CELSIUS:
            errors[field] = [f"Must be from {ABSOLUTE_ZERO_C:g} °C to {MAX_CELSIUS:,.0f} °C."]
    if errors:
        raise ValidationError(errors)
    if (min_c is None) != (max_c is None):
        missing = "max_c" if max_c is None else "min_c"
        raise ValidationError(
            {missing: ["A range needs both bounds: set min_c and max_c together, or clear both."]}
        )
    if min_c is not None and max_c is not None and not min_c < max_c:  # type: ignore[operator]
        raise ValidationError(
            {"min_c": [f"The minimum ({min_c:g} °C) must be below the maximum ({max_c:g} °C)."]}
        )


def _validate_name(name: object) -> str:
    if not isinstance(name, str):
        raise ValidationError({"name": ["A room's name is a string."]})
    if len(name) > ROOM_NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"At most {ROOM_NAME_MAX_LENGTH} characters."]})
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError({"name": ["A room's name must not contain control characters."]})
    # A label for people: surrounding spaces are never meant (the admin's form strips them too).
    return name.strip()


@transaction.atomic
def room_update(
    *, room: Room | str, name: Any = UNSET, min_c: Any = UNSET, max_c: Any = UNSET
) -> Room:
    """Change a room's name and/or acceptable range; the range that results is checked as a
    whole (both bounds or neither, min below max, finite). Fields left UNSET keep their value."""
    room_id = room.pk if isinstance(room, Room) else room
    # Locked, so two concurrent half-updates (one sets min_c, the other max_c) cannot combine
    # into a range neither checked; the check constraint is the last word anyway.
    current = Room.objects.select_for_update().get(pk=room_id)
    fields: list[str] = []
    if name is not UNSET:
        current.name = _validate_name(name)
        fields.append("name")
    new_min = current.min_c if min_c is UNSET else min_c
    new_max = current.max_c if max_c is UNSET else max_c
    validate_room_range(new_min, new_max)
    if min_c is not UNSET or max_c is not UNSET:
        current.min_c = None if new_min is None else float(new_min)
        current.max_c = None if new_max is None else float(new_max)
        fields += ["min_c", "max_c"]
    if fields:
        try:
            with transaction.atomic():
                current.save(update_fields=fields)
        except IntegrityError:
            raise ValidationError({"min_c": [ROOM_RANGE_MESSAGE]}) from None
    if isinstance(room, Room):
        room.name, room.min_c, room.max_c = current.name, current.min_c, current.max_c
    return current


@transaction.atomic
def room_create(
    *, room_id: str, name: str = "", min_c: float | None = None, max_c: float | None = None
) -> Room:
    """Register a room before its first reading (the admin's add form), with its range."""
    validate_room_id(room_id)
    clean_name = _validate_name(name)
    validate_room_range(min_c, max_c)
    try:
        with transaction.atomic():
            return Room.objects.create(room_id=room_id, name=clean_name, min_c=min_c, max_c=max_c)
    except IntegrityError:
        raise ValidationError({"room_id": [f"Room '{room_id}' already exists."]}) from None
