"""The lean `to_representation`s of readings, buckets, excursions and rooms write what DRF's
field walk writes with the fields the serializers declare (and document in the OpenAPI schema)."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework import serializers

from measurements.api.serializers import (
    BucketSerializer,
    ExcursionSerializer,
    ExcursionsSerializer,
    LastReadingSerializer,
    ReadingSerializer,
    RoomSerializer,
)
from measurements.models import Bucket, Measurement, Room, RoomStatus
from measurements.selectors import Excursion
from measurements.units import from_celsius

INSTANT = datetime(2025, 4, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))


def drf_walk(serializer: serializers.BaseSerializer[Any], instance: Any) -> Any:
    """DRF's own representation: every declared field, one by one."""
    return serializers.Serializer.to_representation(serializer, instance)


@pytest.mark.parametrize("unit", [None, "C", "F", "K"])
@pytest.mark.parametrize("value", [21.5, -40.0, 0.0, 1e-7])
def test_reading(unit: str | None, value: float) -> None:
    reading = Measurement(
        room=Room(room_id="lab-1"), timestamp=INSTANT, sensor="probe ✓", value=value
    )
    serializer = ReadingSerializer(reading, context={"unit": unit} if unit else {})
    assert serializer.data == drf_walk(serializer, reading)
    assert serializer.data["timestamp"] == "2025-04-01T10:00:00.123456Z"


@pytest.mark.parametrize("unit", [None, "F", "K"])
@pytest.mark.parametrize(
    "bucket",
    [
        Bucket(start=datetime(2025, 4, 1, tzinfo=UTC), average=20.25, min=19.0, max=21.5, count=3),
        {"start": INSTANT, "average": 20, "min": 19, "max": 21, "count": 2},
        {"start": INSTANT, "average": None, "min": None, "max": None, "count": 0},
    ],
)
def test_bucket(unit: str | None, bucket: Any) -> None:
    serializer = BucketSerializer(bucket, context={"unit": unit} if unit else {})
    expected = drf_walk(serializer, bucket)
    for key in ("average", "min", "max"):  # as stored, °C: the serializer converts them
        expected[key] = None if expected[key] is None else from_celsius(expected[key], unit or "C")
    assert serializer.data == expected


@pytest.mark.parametrize("unit", [None, "C", "F", "K"])
@pytest.mark.parametrize(
    "excursion",
    [
        Excursion("high", INSTANT, INSTANT + timedelta(minutes=3), 25.25, 2),
        Excursion("low", INSTANT, None, -3.5, 1),
        # An integral peak (a reading posted as 17) is still written as a float.
        Excursion("low", INSTANT.astimezone(UTC), None, 17, 3),
    ],
)
def test_excursion(unit: str | None, excursion: Excursion) -> None:
    serializer = ExcursionSerializer(excursion, context={"unit": unit} if unit else {})
    expected = drf_walk(serializer, excursion)
    expected["peak"] = from_celsius(expected["peak"], unit or "C")  # stored in °C: converted
    assert serializer.data == expected
    assert type(serializer.data["peak"]) is float
    assert type(serializer.data["readings"]) is int


@pytest.mark.parametrize("unit", [None, "F"])
@pytest.mark.parametrize("bounds", [(18, 22.5), (None, None)])
def test_excursions_answer(unit: str | None, bounds: tuple[float | None, float | None]) -> None:
    found = [
        Excursion("high", INSTANT, INSTANT + timedelta(minutes=3), 25.25, 2),
        Excursion("low", INSTANT + timedelta(minutes=5), None, 16.0, 4),
    ]
    answer = {
        "room_id": "lab-1",
        "from": INSTANT - timedelta(days=7),
        "to": INSTANT,
        "unit": unit or "C",
        "min": bounds[0],
        "max": bounds[1],
        "excursions": found if bounds[0] is not None else [],
    }
    serializer = ExcursionsSerializer(answer, context={"unit": unit} if unit else {})
    expected = drf_walk(serializer, answer)  # the excursions by their own (lean) serializer
    assert serializer.data == expected
    assert list(serializer.data) == ["room_id", "from", "to", "unit", "min", "max", "excursions"]
    assert len(serializer.data["excursions"]) == len(answer["excursions"])  # type: ignore[arg-type]


def _room(**annotations: Any) -> Room:
    room = Room(room_id="lab-1", name="Balance ✓", created_at=INSTANT, min_c=18, max_c=22.5)
    for name, value in annotations.items():
        setattr(room, name, value)
    return room


@pytest.mark.parametrize("unit", [None, "C", "F", "K"])
@pytest.mark.parametrize(
    "room",
    [
        _room(status=RoomStatus.NO_DATA, last_timestamp=None, last_value=None),
        _room(status=RoomStatus.OK, last_timestamp=INSTANT, last_value=21.5),
        _room(status=RoomStatus.LOW, last_timestamp=INSTANT, last_value=-40),
    ],
)
def test_room(unit: str | None, room: Room) -> None:
    serializer = RoomSerializer(room, context={"unit": unit} if unit else {})
    assert serializer.data == drf_walk(serializer, room)
    # The last reading as its own serializer writes it, its value converted to `unit`.
    last = None
    if room.last_timestamp is not None:  # type: ignore[attr-defined]
        value = from_celsius(room.last_value, unit or "C")  # type: ignore[attr-defined]
        last = LastReadingSerializer(
            {"timestamp": room.last_timestamp, "value": value, "unit": unit or "C"}  # type: ignore[attr-defined]
        ).data
    assert serializer.data["last_reading"] == last
    assert serializer.data["created_at"] == "2025-04-01T10:00:00.123456Z"


def test_a_room_without_a_range_has_null_bounds() -> None:
    room = _room(status=RoomStatus.NO_RANGE, last_timestamp=INSTANT, last_value=20.0)
    room.min_c = room.max_c = None
    serializer = RoomSerializer(room)
    assert serializer.data == drf_walk(serializer, room)
    assert (serializer.data["min_c"], serializer.data["max_c"]) == (None, None)
