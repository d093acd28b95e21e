"""`GET /api/measurements/{room_id}/average/{duration}`: window, units, 404, empty window."""

from datetime import datetime, timedelta

import pytest
from rest_framework.test import APIClient

from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db


def url(duration: str, room_id: str = "lab-1") -> str:
    return f"/api/measurements/{room_id}/average/{duration}"


def test_average_min_max_and_count_over_the_last_hour(
    reader_client: APIClient, now: datetime
) -> None:
    room = RoomFactory(room_id="lab-1")
    for minutes, value in [(10, 20.0), (20, 22.0), (30, 24.0), (61, 99.0)]:
        MeasurementFactory(room=room, timestamp=now - timedelta(minutes=minutes), value=value)
    MeasurementFactory(timestamp=now - timedelta(minutes=5), value=50.0)  # another room
    response = reader_client.get(url("PT1H"))
    assert response.status_code == 200
    assert response.json() == {
        "room_id": "lab-1",
        "duration": "PT1H",
        "from": "2025-06-01T11:00:00Z",
        "to": "2025-06-01T12:00:00Z",
        "unit": "C",
        "average": 22.0,
        "min": 20.0,
        "max": 24.0,
        "count": 3,
        "method": "mean",
    }


def test_a_reading_exactly_duration_old_counts_and_one_a_microsecond_older_does_not(
    reader_client: APIClient, now: datetime
) -> None:
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room, timestamp=now - timedelta(hours=1), value=10.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(hours=1, microseconds=1), value=90.0)
    MeasurementFactory(room=room, timestamp=now, value=30.0)  # now itself counts too
    body = reader_client.get(url("1h")).json()
    assert body["count"] == 2
    assert body["average"] == 20.0


def test_a_reading_in_the_future_is_not_counted(reader_client: APIClient, now: datetime) -> None:
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room, timestamp=now - timedelta(minutes=1), value=20.0)
    MeasurementFactory(room=room, timestamp=now + timedelta(microseconds=1), value=80.0)
    body = reader_client.get(url("PT1H")).json()
    assert body["count"] == 1
    assert body["max"] == 20.0


@pytest.mark.parametrize(
    ("duration", "normalised", "count"),
    [
        ("PT15M", "PT15M", 1),
        ("90s", "PT1M30S", 0),
        ("15m", "PT15M", 1),
        ("P1D", "P1D", 2),
        ("1d", "P1D", 2),
        ("P1W", "P7D", 3),
        ("2w", "P14D", 3),
        ("P1DT12H", "P1DT12H", 2),
    ],
)
def test_every_duration_form_sets_the_window(
    reader_client: APIClient, now: datetime, duration: str, normalised: str, count: int
) -> None:
    room = RoomFactory(room_id="lab-1")
    for age in (timedelta(minutes=10), timedelta(hours=20), timedelta(days=6)):
        MeasurementFactory(room=room, timestamp=now - age)
    body = reader_client.get(url(duration)).json()
    assert body["duration"] == normalised
    assert body["count"] == count


@pytest.mark.parametrize(("unit", "average"), [("C", 20.0), ("F", 68.0), ("K", 293.15)])
def test_the_answer_is_converted_to_the_asked_unit(
    reader_client: APIClient, now: datetime, unit: str, average: float
) -> None:
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room, timestamp=now - timedelta(minutes=1), value=10.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(minutes=2), value=30.0)
    body = reader_client.get(url("PT1H"), {"unit": unit}).json()
    assert body["unit"] == unit
    assert body["average"] == pytest.approx(average)
    assert body["min"] < body["average"] < body["max"]


def test_a_room_without_readings_in_the_window_has_count_zero_and_null_statistics(
    reader_client: APIClient, now: datetime
) -> None:
    MeasurementFactory(room=RoomFactory(room_id="lab-1"), timestamp=now - timedelta(days=2))
    body = reader_client.get(url("PT1H"), {"unit": "F"}).json()
    assert body["count"] == 0
    assert body["average"] is None
    assert body["min"] is None
    assert body["max"] is None


def test_a_room_that_never_had_a_reading_is_a_404(reader_client: APIClient, now: datetime) -> None:
    response = reader_client.get(url("PT1H", room_id="nowhere"))
    assert response.status_code == 404
    assert "nowhere" in response.json()["detail"]
    assert reader_client.get(url("PT1H", room_id="bad%20id")).status_code == 404
    assert reader_client.get(url("PT1H", room_id="x" * 65)).status_code == 404


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("P1M", "years and months"),
        ("P1Y", "years and months"),
        ("PT0S", "positive"),
        ("0s", "positive"),
        ("-PT1H", "positive"),
        ("-1h", "positive"),
        ("P3654D", "at most 10 years"),
        ("99999999999w", "at most 10 years"),
        ("soon", "not a duration"),
        ("1.5h", "not a duration"),
    ],
)
def test_a_bad_duration_is_a_400_saying_why(
    reader_client: APIClient, now: datetime, duration: str, message: str
) -> None:
    RoomFactory(room_id="lab-1")
    response = reader_client.get(url(duration))
    assert response.status_code == 400
    assert message in response.json()["duration"][0]


@pytest.mark.parametrize("unit", ["c", "kelvin", "F,K"])
def test_a_bad_unit_is_a_400(reader_client: APIClient, unit: str) -> None:
    RoomFactory(room_id="lab-1")
    response = reader_client.get(url("PT1H"), {"unit": unit})
    assert response.status_code == 400
    assert "unit" in response.json()


def test_the_average_counts_every_sensor_of_the_room(
    reader_client: APIClient, now: datetime
) -> None:
    room = RoomFactory(room_id="lab-1")
    at = now - timedelta(minutes=5)
    MeasurementFactory(room=room, timestamp=at, sensor="a", value=20.0)
    MeasurementFactory(room=room, timestamp=at, sensor="b", value=22.0)
    body = reader_client.get(url("PT1H") + "/").json()
    assert (body["count"], body["average"]) == (2, 21.0)
