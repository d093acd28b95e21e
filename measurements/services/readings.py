"""Writes of readings: one parser of what clients post (`parse_reading`, `readings_parse`) and
the ingestion of one reading or a batch, all or nothing."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction

from config.api.timestamps import TimestampError, parse_timestamp

from .. import clock
from ..models import SENSOR_MAX_LENGTH, Measurement, validate_room_id
from ..signals import readings_stored
from ..units import UNITS, to_celsius
from .rooms import room_get_or_create

# The most readings one request may carry, and so one statement inserts.
MAX_READINGS = 10_000
# A tuple built once: `int | float` written in the check would build a union per reading.
_NUMBER_TYPES = (int, float)


@dataclass(frozen=True)
class Reading:
    """One reading as a client sends it: `value` in `unit` (C, F or K)."""

    timestamp: datetime
    value: float
    unit: str = "C"
    sensor: str = ""


@dataclass(frozen=True)
class ParsedReading(Reading):
    """A reading `parse_reading` has checked, with its value in °C: stored as it is."""

    celsius: float = 0.0


class ReadingError(ValueError):
    """A reading that cannot be stored; `index` is its place in the batch (None for one)."""

    def __init__(self, index: int | None, field: str, message: str) -> None:
        where = f"Reading {index}: " if index is not None else ""
        super().__init__(f"{where}{field}: {message}")
        self.index = index
        self.field = field
        self.message = message


class ReadingInputError(Exception):
    """A posted reading is malformed; `errors` maps each bad field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


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


def parse_reading(data: Any, *, default_timestamp: datetime | None) -> ParsedReading:
    """One reading as a client posts it (a JSON object), checked field by field, every bad
    field named (ReadingInputError); `default_timestamp` None makes `timestamp` required.

    The one parser of readings: the API's single and array posts call it, and what it returns
    is stored without being checked again.
    """
    if not isinstance(data, dict):
        raise ReadingInputError({"non_field_errors": ["A reading is a JSON object."]})
    errors: dict[str, list[str]] = {}
    value = data.get("value")
    number: float | None = None
    if "value" not in data:
        errors["value"] = ["This field is required."]
    elif isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        kind = "null" if value is None else type(value).__name__
        errors["value"] = [f"Must be a JSON number, not {kind}."]
    else:
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            errors["value"] = ["A valid finite number is required."]
            number = None
    unit = data.get("unit", "C")
    celsius = 0.0
    if unit not in UNITS:
        errors["unit"] = [f"'{unit}' is not a unit; choose one of C, F, K."]
    elif number is not None:
        try:
            celsius = to_celsius(number, unit)
        except ValueError as exc:
            errors["value"] = [str(exc)]
    timestamp = default_timestamp
    if "timestamp" in data:
        try:
            timestamp = parse_timestamp(data["timestamp"])
        except TimestampError as exc:
            errors["timestamp"] = [str(exc)]
    elif default_timestamp is None:
        errors["timestamp"] = ["This field is required for each reading of an array."]
    sensor = data.get("sensor", "")
    try:
        validate_sensor(sensor)
    except ValueError as exc:
        errors["sensor"] = [str(exc)]
    if errors:
        raise ReadingInputError(errors)
    assert number is not None
    assert timestamp is not None
    return ParsedReading(timestamp, number, unit, sensor, celsius)


class ReadingsBodyError(Exception):
    """The body of a readings post is not one reading or an array of valid ones; `body` is
    the 400's JSON."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body)
        self.body = body


def readings_parse(data: Any, *, now: datetime) -> ParsedReading | list[ParsedReading]:
    """A posted body: one reading (a JSON object; `timestamp` defaults to `now`) or an array
    of 1–10,000, each with its timestamp, all parsed by `parse_reading`. An array is all or
    nothing: ReadingsBodyError names the first bad reading's index and every bad one's errors.
    """
    if isinstance(data, dict):
        try:
            return parse_reading(data, default_timestamp=now)
        except ReadingInputError as exc:
            raise ReadingsBodyError(exc.errors) from None
    if not isinstance(data, list):
        raise ReadingsBodyError(
            {"detail": "Send one reading (a JSON object) or an array of up to 10,000 readings."}
        )
    if not data:
        raise ReadingsBodyError({"detail": "The array is empty; send at least one reading."})
    if len(data) > MAX_READINGS:
        raise ReadingsBodyError(
            {
                "detail": f"At most {MAX_READINGS:,} readings per request; "
                f"this array has {len(data):,}."
            }
        )
    readings = []
    errors: dict[str, dict[str, list[str]]] = {}
    for index, item in enumerate(data):
        try:
            readings.append(parse_reading(item, default_timestamp=None))
        except ReadingInputError as exc:
            errors[str(index)] = exc.errors
    if errors:
        first = next(iter(errors))
        field, messages = next(iter(errors[first].items()))
        raise ReadingsBodyError(
            {
                "detail": f"Reading {first} is invalid: {field}: {messages[0]} Nothing was stored.",
                "index": int(first),
                "errors": errors,
            }
        )
    return readings


def _to_row(index: int | None, reading: Reading) -> tuple[datetime, str, float]:
    """The stored row of a reading: as `parse_reading` checked it, or (a reading built in
    code) checked now by the same rules."""
    if isinstance(reading, ParsedReading):
        return reading.timestamp, reading.sensor, reading.celsius
    try:
        value = to_celsius(reading.value, reading.unit)
    except ValueError as exc:
        field = "unit" if reading.unit not in UNITS else "value"
        raise ReadingError(index, field, str(exc)) from None
    try:
        sensor = validate_sensor(reading.sensor)
    except ValueError as exc:
        raise ReadingError(index, "sensor", str(exc)) from None
    return reading.timestamp, sensor, value


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
    return reading_store(room_id=room_id, reading=reading)


@transaction.atomic
def reading_store(*, room_id: str, reading: Reading) -> RecordResult:
    """`reading_record` for a reading already built (e.g. by `parse_reading`)."""
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
        readings_stored.send(Measurement, room_id=room.pk, readings=[(instant, celsius)])
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
    for start in range(0, len(items), MAX_READINGS):
        created += _insert_new(room_id, items[start : start + MAX_READINGS])
    if created:
        # Every reading was new: they are what was stored, so judging needs not read them back
        # (10,000 rows parsed again: a third of a 10,000-reading post's time, bench/alarms.py).
        # With duplicates, which of a batch's readings were stored is the database's to say.
        stored = (
            [(instant, celsius) for (instant, _), celsius in items]
            if created == len(items)
            else None
        )
        readings_stored.send(Measurement, room_id=room_id, readings=stored)
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
