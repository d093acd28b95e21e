"""`POST /api/measurements/{room_id}`: one reading or an array, all or nothing, stored once."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from measurements.models import Measurement, Room
from tests.factories import MeasurementFactory, RoomFactory

from .conftest import NOW

pytestmark = pytest.mark.django_db

URL = "/api/measurements/lab-1"


def test_one_reading_is_stored_in_celsius_and_creates_the_room(
    sensor_client: APIClient, now: datetime
) -> None:
    response = sensor_client.post(
        URL, {"value": 70.7, "unit": "F", "timestamp": "2025-04-01T12:00:00.123456+02:00"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["room_id"] == "lab-1"
    assert body["timestamp"] == "2025-04-01T10:00:00.123456Z"
    assert body["value"] == pytest.approx(21.5)
    assert body["unit"] == "C"
    assert body["sensor"] == ""
    stored = Measurement.objects.get()
    assert stored.value == pytest.approx(21.5)
    assert stored.room.room_id == "lab-1"
    assert Room.objects.get().created_at is not None


def test_a_reading_without_timestamp_is_taken_at_arrival_and_without_unit_is_celsius(
    sensor_client: APIClient, now: datetime
) -> None:
    response = sensor_client.post(URL, {"value": 19})
    assert response.status_code == 201
    assert response.json()["timestamp"] == "2025-06-01T12:00:00Z"
    assert response.json()["value"] == 19.0
    assert Measurement.objects.get().timestamp == NOW


def test_kelvin_is_converted_and_the_sensor_is_kept(sensor_client: APIClient) -> None:
    response = sensor_client.post(
        URL + "/",
        {"value": 294.65, "unit": "K", "sensor": "north-wall", "timestamp": "2025-04-01T10:00:00Z"},
    )
    assert response.status_code == 201
    assert response.json()["value"] == pytest.approx(21.5)
    assert response.json()["sensor"] == "north-wall"


def test_posting_the_same_reading_again_answers_200_with_the_first_value(
    sensor_client: APIClient,
) -> None:
    reading = {"value": 21.5, "timestamp": "2025-04-01T10:00:00Z", "sensor": "a"}
    assert sensor_client.post(URL, reading).status_code == 201
    again = sensor_client.post(URL, {**reading, "value": 30})
    assert again.status_code == 200
    assert again.json()["value"] == 21.5
    assert Measurement.objects.count() == 1
    # Another sensor at the same instant is another reading.
    assert sensor_client.post(URL, {**reading, "sensor": "b"}).status_code == 201
    assert Measurement.objects.count() == 2


def test_an_array_is_stored_and_counted(sensor_client: APIClient) -> None:
    readings = [
        {"value": 20 + i, "timestamp": f"2025-04-01T10:{i:02d}:00Z", "unit": "C"} for i in range(5)
    ]
    readings.append({"value": 70.7, "unit": "F", "timestamp": "2025-04-01T11:00:00Z"})
    response = sensor_client.post(URL, readings)
    assert response.status_code == 201
    assert response.json() == {"room_id": "lab-1", "created": 6, "duplicates": 0}
    assert sorted(Measurement.objects.values_list("value", flat=True)) == pytest.approx(
        [20, 21, 21.5, 22, 23, 24]
    )


def test_an_array_counts_readings_already_stored_and_repeated_inside_it_as_duplicates(
    sensor_client: APIClient,
) -> None:
    MeasurementFactory(
        room=RoomFactory(room_id="lab-1"),
        timestamp=datetime(2025, 4, 1, 10, tzinfo=UTC),
        value=18.0,
    )
    readings = [
        {"value": 30, "timestamp": "2025-04-01T10:00:00Z"},  # already stored
        {"value": 21, "timestamp": "2025-04-01T10:01:00Z"},
        {"value": 99, "timestamp": "2025-04-01T12:01:00+02:00"},  # the same instant again
        {"value": 22, "timestamp": "2025-04-01T10:01:00Z", "sensor": "b"},  # another sensor
    ]
    response = sensor_client.post(URL, readings)
    assert response.status_code == 201
    assert response.json() == {"room_id": "lab-1", "created": 2, "duplicates": 2}
    values = dict(Measurement.objects.values_list("timestamp", "value").filter(sensor=""))
    assert values[datetime(2025, 4, 1, 10, tzinfo=UTC)] == 18.0  # the first stored wins
    assert values[datetime(2025, 4, 1, 10, 1, tzinfo=UTC)] == 21.0  # the first in the array
    # Sending the whole array again stores nothing more.
    assert sensor_client.post(URL, readings).json() == {
        "room_id": "lab-1",
        "created": 0,
        "duplicates": 4,
    }


def test_a_bad_reading_in_an_array_is_named_by_index_and_nothing_is_stored(
    sensor_client: APIClient,
) -> None:
    readings = [{"value": 20, "timestamp": f"2025-04-01T10:{i:02d}:00Z"} for i in range(10)]
    readings[3] = {"value": -300, "timestamp": "2025-04-01T11:00:00Z"}
    readings[7] = {"value": 20}
    response = sensor_client.post(URL, readings)
    assert response.status_code == 400
    body = response.json()
    assert body["index"] == 3
    assert "Reading 3" in body["detail"]
    assert "absolute zero" in body["errors"]["3"]["value"][0]
    assert "timestamp" in body["errors"]["7"]
    assert set(body["errors"]) == {"3", "7"}
    assert not Measurement.objects.exists()
    assert not Room.objects.exists()


@pytest.mark.parametrize(
    ("reading", "field"),
    [
        ({"value": -273.16}, "value"),
        ({"value": -459.68, "unit": "F"}, "value"),
        ({"value": -0.001, "unit": "K"}, "value"),
        ({"value": "21.5"}, "value"),
        ({"value": True}, "value"),
        ({"value": None}, "value"),
        ({"value": [21]}, "value"),
        ({"value": 10**400}, "value"),
        ({"value": 1e308, "unit": "F"}, "value"),
        ({"value": 1_000_001}, "value"),
        ({}, "value"),
        ({"value": 21, "unit": "c"}, "unit"),
        ({"value": 21, "unit": "Celsius"}, "unit"),
        ({"value": 21, "unit": None}, "unit"),
        ({"value": 21, "timestamp": "yesterday"}, "timestamp"),
        ({"value": 21, "timestamp": "2025-04-01"}, "timestamp"),
        ({"value": 21, "timestamp": 1743501600}, "timestamp"),
        ({"value": 21, "sensor": "x" * 65}, "sensor"),
        ({"value": 21, "sensor": "a\x00b"}, "sensor"),
        ({"value": 21, "sensor": 5}, "sensor"),
    ],
)
def test_an_invalid_single_reading_is_a_400_keyed_by_field_and_nothing_is_stored(
    sensor_client: APIClient, reading: dict[str, object], field: str
) -> None:
    response = sensor_client.post(URL, reading)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Measurement.objects.exists()
    assert not Room.objects.exists()


def test_absolute_zero_itself_is_accepted_in_every_unit(sensor_client: APIClient) -> None:
    for i, (value, unit) in enumerate([(-273.15, "C"), (-459.67, "F"), (0, "K")]):
        response = sensor_client.post(
            URL, {"value": value, "unit": unit, "timestamp": f"2025-04-01T10:0{i}:00Z"}
        )
        assert response.status_code == 201
        assert response.json()["value"] == pytest.approx(-273.15)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(sensor_client: APIClient, literal: str) -> None:
    response = sensor_client.post(
        URL, data=f'{{"value": {literal}}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert "detail" in response.json()
    batch = sensor_client.post(
        URL,
        data=f'[{{"value": 1, "timestamp": "2025-04-01T10:00:00Z"}}, {{"value": {literal}}}]',
        content_type="application/json",
    )
    assert batch.status_code == 400
    assert not Measurement.objects.exists()


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("not json", "application/json", 400),
        ('{"value": 21', "application/json", 400),
        ("value=21", "application/x-www-form-urlencoded", 415),
        ("21", "text/plain", 415),
        ("21", "application/json", 400),
        ('"hello"', "application/json", 400),
        ("null", "application/json", 400),
        ("[]", "application/json", 400),
        ("[21, 22]", "application/json", 400),
    ],
)
def test_bodies_that_are_not_a_reading_or_an_array_of_readings_are_refused(
    sensor_client: APIClient, data: str, content_type: str, status: int
) -> None:
    response = sensor_client.post(URL, data=data, content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()
    assert not Measurement.objects.exists()


def test_an_array_of_ten_thousand_is_accepted_and_one_more_is_refused(
    sensor_client: APIClient,
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    readings = [
        {"value": 20.0, "timestamp": (start + timedelta(seconds=i)).isoformat()}
        for i in range(10_001)
    ]
    too_many = sensor_client.post(URL, data=json.dumps(readings), content_type="application/json")
    assert too_many.status_code == 400
    assert "At most 10,000" in too_many.json()["detail"]
    assert not Measurement.objects.exists()
    ok = sensor_client.post(
        URL, data=json.dumps(readings[:10_000]), content_type="application/json"
    )
    assert ok.status_code == 201
    assert ok.json()["created"] == 10_000
    assert Measurement.objects.count() == 10_000


@pytest.mark.parametrize("room_id", ["a" * 65, "lab 1", "läb", "lab%2F1", "lab%00", "lab@1"])
def test_an_invalid_room_id_is_a_400_and_creates_nothing(
    sensor_client: APIClient, room_id: str
) -> None:
    response = sensor_client.post(f"/api/measurements/{room_id}", {"value": 21})
    assert response.status_code in (400, 404), response.content
    assert not Room.objects.exists()


def test_room_ids_are_case_sensitive(sensor_client: APIClient) -> None:
    sensor_client.post("/api/measurements/Lab-1", {"value": 21})
    sensor_client.post("/api/measurements/lab-1", {"value": 21})
    assert sorted(Room.objects.values_list("room_id", flat=True)) == ["Lab-1", "lab-1"]


def test_readings_have_no_put_patch_or_delete(
    client_for: Callable[[User], APIClient], superuser: User
) -> None:
    client = client_for(superuser)
    client.post(URL, {"value": 21})
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(URL, {"value": 1})
        assert response.status_code == 405
        assert "detail" in response.json()
    assert Measurement.objects.count() == 1
