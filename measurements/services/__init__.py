"""Writes of rooms and readings: the API, the admin and the commands call these."""

from .readings import (
    MAX_READINGS,
    IngestResult,
    ParsedReading,
    Reading,
    ReadingError,
    ReadingInputError,
    ReadingsBodyError,
    RecordResult,
    parse_reading,
    reading_record,
    reading_store,
    readings_ingest,
    readings_parse,
    validate_sensor,
)
from .rooms import (
    UNSET,
    alarm_delay_of,
    room_create,
    room_get_or_create,
    room_update,
    validate_room_range,
)

__all__ = [
    "MAX_READINGS",
    "UNSET",
    "IngestResult",
    "ParsedReading",
    "Reading",
    "ReadingError",
    "ReadingInputError",
    "ReadingsBodyError",
    "RecordResult",
    "alarm_delay_of",
    "parse_reading",
    "reading_record",
    "reading_store",
    "readings_ingest",
    "readings_parse",
    "room_create",
    "room_get_or_create",
    "room_update",
    "validate_room_range",
    "validate_sensor",
]
