"""The services and queryset methods the API, the admin and the commands share."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from measurements.models import Measurement, Room, _buckets_in_python
from measurements.services import (
    Reading,
    ReadingError,
    reading_record,
    readings_ingest,
    room_get_or_create,
)
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, 10, tzinfo=UTC)


def test_reading_record_converts_and_a_retry_returns_the_stored_reading() -> None:
    first = reading_record(room_id="lab-1", value=212.0, unit="F", timestamp=T0)
    assert first.created
    assert first.measurement.value == pytest.approx(100.0)
    again = reading_record(room_id="lab-1", value=0.0, unit="C", timestamp=T0)
    assert not again.created
    assert again.measurement.pk == first.measurement.pk
    assert again.measurement.value == pytest.approx(100.0)


def test_reading_record_refuses_a_bad_reading_and_stores_nothing() -> None:
    with pytest.raises(ReadingError) as caught:
        reading_record(room_id="lab-1", value=-1.0, unit="K", timestamp=T0)
    assert caught.value.field == "value"
    assert caught.value.index is None
    with pytest.raises(ReadingError, match="unit"):
        reading_record(room_id="lab-1", value=1.0, unit="X", timestamp=T0)
    with pytest.raises(ValidationError):
        reading_record(room_id="bad id", value=1.0, timestamp=T0)
    assert not Room.objects.exists()


def test_readings_ingest_names_the_first_bad_reading_and_stores_nothing() -> None:
    readings = [Reading(timestamp=T0 + timedelta(minutes=i), value=20.0) for i in range(5)]
    readings[2] = Reading(timestamp=T0, value=20.0, sensor="x" * 65)
    with pytest.raises(ReadingError) as caught:
        readings_ingest(room_id="lab-1", readings=readings)
    assert (caught.value.index, caught.value.field) == (2, "sensor")
    assert not Measurement.objects.exists()
    assert not Room.objects.exists()


def test_readings_ingest_counts_created_and_duplicates() -> None:
    readings = [Reading(timestamp=T0 + timedelta(minutes=i % 3), value=float(i)) for i in range(6)]
    result = readings_ingest(room_id="lab-1", readings=readings)
    assert (result.created, result.duplicates) == (3, 3)
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [0.0, 1.0, 2.0]
    assert readings_ingest(room_id="lab-1", readings=[]).created == 0


def test_room_get_or_create_validates_the_id_and_returns_the_same_room() -> None:
    assert room_get_or_create(room_id="A.b_c-1") == room_get_or_create(room_id="A.b_c-1")
    for bad in ("", "a b", "a/b", "x" * 65, "lab\n"):
        with pytest.raises(ValidationError):
            room_get_or_create(room_id=bad)
    assert Room.objects.count() == 1


def test_the_database_refuses_an_invalid_room_id_or_temperature_even_past_python() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(room_id="no spaces")
    room = RoomFactory(room_id="lab-1")
    for value in (-273.2, float("inf")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Measurement.objects.create(room=room, timestamp=T0, value=value)
    MeasurementFactory(room=room, timestamp=T0, sensor="s")
    with pytest.raises(IntegrityError), transaction.atomic():
        Measurement.objects.create(room=room, timestamp=T0, sensor="s", value=1.0)


def test_summary_of_an_empty_window_has_no_statistics() -> None:
    room = RoomFactory(room_id="lab-1")
    assert Measurement.objects.window(room, T0, T0 + timedelta(hours=1)).summary() == {
        "average": None,
        "min": None,
        "max": None,
        "count": 0,
    }


def test_the_database_and_the_portable_bucketing_agree() -> None:
    rng = random.Random(7)
    room = RoomFactory(room_id="lab-1")
    Measurement.objects.bulk_create(
        Measurement(
            room=room,
            timestamp=T0
            + timedelta(seconds=rng.randint(0, 86_400), microseconds=rng.randint(0, 999_999)),
            sensor=str(i),
            value=round(rng.uniform(15, 25), 3),
        )
        for i in range(500)
    )
    window = Measurement.objects.window(room, T0, T0 + timedelta(days=2))
    for width in (
        timedelta(minutes=7),
        timedelta(hours=1),
        timedelta(days=1),
        timedelta(seconds=1),
    ):
        database = window.buckets(width)
        portable = _buckets_in_python(
            window.order_by("timestamp").values_list("timestamp", "value"), width
        )
        assert [(b.start, b.count, b.min, b.max) for b in database] == [
            (b.start, b.count, b.min, b.max) for b in portable
        ]
        assert [b.average for b in database] == pytest.approx([b.average for b in portable])
        assert sum(b.count for b in database) == 500
