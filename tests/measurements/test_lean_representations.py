"""The lean `to_representation`s of readings and buckets write what DRF's field walk writes
with the fields the serializers declare (and document in the OpenAPI schema)."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework import serializers

from measurements.api.serializers import BucketSerializer, ReadingSerializer
from measurements.models import Bucket, Measurement, Room
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
