"""Alarms raised and cleared by the readings that prove it (DESIGN §4.8), posted through the API
as sensors post them, with hand-worked answers."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from measurements.models import Room
from measurements.services import Reading, readings_ingest
from monitoring.models import Alarm, AlarmKind
from tests.monitoring.conftest import T0

pytestmark = pytest.mark.django_db


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def post(client: APIClient, room: str, *readings: tuple[Any, ...]) -> None:
    """Post readings (minutes after T0, °C, optional sensor) as one array."""
    body = [
        {"timestamp": at(r[0]).isoformat(), "value": r[1], "sensor": r[2] if len(r) > 2 else ""}
        for r in readings
    ]
    response = client.post(f"/api/measurements/{room}", body, format="json")
    assert response.status_code == 201, response.content


def room(client: APIClient, room_id: str = "lab-1", **rules: Any) -> str:
    """A room that exists (a first reading, inside) with the range 18–22 °C and `rules`."""
    post(client, room_id, (-60, 20.0))
    response = client.patch(
        f"/api/rooms/{room_id}", {"min_c": 18, "max_c": 22, **rules}, format="json"
    )
    assert response.status_code == 200, response.content
    return room_id


def alarms(room_id: str = "lab-1") -> list[dict[str, Any]]:
    return list(
        Alarm.objects.filter(room_id=room_id)
        .order_by("id")
        .values("kind", "opened_at", "cleared_at", "peak", "readings")
    )


def test_with_no_delay_the_first_reading_outside_raises_and_the_next_inside_clears(
    manager_client: APIClient,
) -> None:
    room(manager_client)
    post(manager_client, "lab-1", (0, 23.0))
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": None, "peak": 23.0, "readings": 1}
    ]
    post(manager_client, "lab-1", (5, 23.5), (10, 21.0))
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": at(10), "peak": 23.5, "readings": 2}
    ]


def test_a_run_becomes_an_alarm_once_it_has_lasted_the_delay(manager_client: APIClient) -> None:
    room(manager_client, alarm_delay="15m")
    post(manager_client, "lab-1", (0, 17.0), (5, 16.5), (10, 17.5))
    assert alarms() == []
    post(manager_client, "lab-1", (15, 17.9))
    # Raised at the reading that makes the run 15 minutes long, opened at its first reading.
    assert alarms() == [
        {"kind": "low", "opened_at": at(0), "cleared_at": None, "peak": 16.5, "readings": 4}
    ]


def test_a_run_shorter_than_the_delay_raises_nothing(manager_client: APIClient) -> None:
    room(manager_client, alarm_delay="PT15M")
    post(manager_client, "lab-1", (0, 23.0), (10, 23.0), (14, 21.0), (20, 23.0), (34, 23.0))
    assert alarms() == []


def test_an_alarm_clears_only_by_the_deadband_and_counts_every_reading_until_then(
    manager_client: APIClient,
) -> None:
    room(manager_client, alarm_deadband_c=0.5)
    post(manager_client, "lab-1", (0, 23.0), (1, 21.8), (2, 22.4), (3, 21.6), (4, 23.9))
    # 21.8 and 21.6 are inside but within 0.5 °C of the maximum: the alarm goes on.
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": None, "peak": 23.9, "readings": 5}
    ]
    post(manager_client, "lab-1", (5, 21.5))  # exactly 0.5 °C inside: enough
    assert alarms()[0]["cleared_at"] == at(5)
    assert alarms()[0]["readings"] == 5  # up to, not including, the clearing reading


def test_readings_of_one_instant_count_as_their_mean_whatever_the_sensors_names(
    manager_client: APIClient,
) -> None:
    for room_id, names in (("lab-1", ("a", "z")), ("lab-2", ("z", "a"))):
        room(manager_client, room_id)
        # 21 and 24 at one instant: the mean, 22.5, is above 22; the peak is the reading 24.
        post(manager_client, room_id, (0, 21.0, names[0]), (0, 24.0, names[1]))
        # 19 and 23.8 at one instant: their mean, 21.4, is inside: it clears.
        post(manager_client, room_id, (1, 19.0, names[0]), (1, 23.8, names[1]))
    expected = [
        {"kind": "high", "opened_at": at(0), "cleared_at": at(1), "peak": 24.0, "readings": 2}
    ]
    assert alarms("lab-1") == alarms("lab-2") == expected


def post_one(client: APIClient, room_id: str, minutes: float, value: float, sensor: str) -> None:
    """One reading, posted alone, as a sensor posts it."""
    body = {"timestamp": at(minutes).isoformat(), "value": value, "sensor": sensor}
    response = client.post(f"/api/measurements/{room_id}", body, format="json")
    assert response.status_code == 201, response.content


def test_a_second_sensors_reading_of_the_last_instant_posted_apart_judges_it_again(
    manager_client: APIClient,
) -> None:
    """One instant is the mean of its readings however they arrive: 21 from one sensor, then
    30 from another in a post of its own, is 25.5, above 22."""
    room(manager_client)
    post_one(manager_client, "lab-1", 0, 21.0, "a")
    assert alarms() == []
    post_one(manager_client, "lab-1", 0, 30.0, "b")
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": None, "peak": 30.0, "readings": 2}
    ]
    # A third sensor's 22.5 at that instant keeps it outside (24.5): counted once, no new alarm.
    post_one(manager_client, "lab-1", 0, 22.5, "c")
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": None, "peak": 30.0, "readings": 3}
    ]
    # And a fourth's 10 brings the instant's mean to 20.9: inside, it clears there.
    post_one(manager_client, "lab-1", 0, 10.0, "d")
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": at(0), "peak": 30.0, "readings": 3}
    ]


def test_a_reading_on_the_other_side_clears_one_alarm_and_raises_the_other(
    manager_client: APIClient,
) -> None:
    room(manager_client)
    post(manager_client, "lab-1", (0, 23.0), (1, 17.0))
    assert alarms() == [
        {"kind": "high", "opened_at": at(0), "cleared_at": at(1), "peak": 23.0, "readings": 1},
        {"kind": "low", "opened_at": at(1), "cleared_at": None, "peak": 17.0, "readings": 1},
    ]


def test_a_late_reading_changes_no_alarm(manager_client: APIClient) -> None:
    room(manager_client)
    post(manager_client, "lab-1", (10, 20.0))
    post(manager_client, "lab-1", (5, 25.0))  # older than the last judged reading
    assert alarms() == []
    post(manager_client, "lab-1", (11, 25.0))
    assert alarms()[0]["readings"] == 1


def test_a_room_with_alarms_off_raises_none(manager_client: APIClient) -> None:
    room(manager_client, alarms_enabled=False)
    post(manager_client, "lab-1", (0, 30.0), (10, 30.0))
    assert alarms() == []


def test_a_room_without_a_range_raises_none_and_clearing_its_range_ends_its_alarm(
    manager_client: APIClient,
) -> None:
    post(manager_client, "lab-2", (0, 30.0))
    assert alarms("lab-2") == []
    room(manager_client)
    post(manager_client, "lab-1", (0, 30.0))
    response = manager_client.patch(
        "/api/rooms/lab-1",
        {"min_c": None, "max_c": None, "reason": "Room taken out of use"},
        format="json",
    )
    assert response.status_code == 200
    assert alarms()[0]["cleared_at"] is None  # a range change re-judges no reading
    # A reading from before the change is still judged by the range then: still too warm.
    post(manager_client, "lab-1", (1, 30.0))
    assert alarms()[0]["cleared_at"] is None
    # One from after it has no range in force: the alarm is over.
    post(manager_client, "lab-1", (10**6, 30.0))
    assert alarms()[0]["cleared_at"] == at(10**6)


def test_each_reading_is_judged_by_the_range_in_force_at_its_timestamp(
    manager_client: APIClient,
) -> None:
    room(manager_client)  # 18–22 °C, version 1
    widened = manager_client.patch(
        "/api/rooms/lab-1", {"min_c": 15, "max_c": 30, "reason": "SOP rev. 2"}, format="json"
    )
    assert widened.status_code == 200
    # 25 °C is inside the range in force now (15–30): no alarm.
    post(manager_client, "lab-1", (10**6, 25.0))
    assert alarms() == []


def test_an_alarm_raised_under_one_range_is_cleared_by_the_range_in_force_later(
    manager_client: APIClient,
) -> None:
    room(manager_client)
    post(manager_client, "lab-1", (0, 25.0))
    assert alarms()[0]["cleared_at"] is None
    manager_client.patch(
        "/api/rooms/lab-1", {"min_c": 15, "max_c": 30, "reason": "SOP rev. 2"}, format="json"
    )
    # The range changed now; the alarm stays until a reading clears it, judged by the range
    # in force at that reading's time: 25 °C, inside 15–30.
    post(manager_client, "lab-1", (10**6, 25.0))
    assert alarms()[0]["cleared_at"] == at(10**6)


def test_two_rooms_are_judged_apart(manager_client: APIClient) -> None:
    room(manager_client, "lab-1")
    room(manager_client, "lab-2")
    post(manager_client, "lab-1", (0, 23.0))
    post(manager_client, "lab-2", (0, 20.0))
    assert [a["kind"] for a in alarms("lab-1")] == ["high"]
    assert alarms("lab-2") == []


def test_a_reading_stored_by_the_service_is_judged_as_one_posted(
    manager_client: APIClient,
) -> None:
    room(manager_client)
    readings_ingest(room_id="lab-1", readings=[Reading(timestamp=at(0), value=25.0)])
    assert [a["kind"] for a in alarms()] == [AlarmKind.HIGH]


def test_a_repeated_post_raises_no_second_alarm(manager_client: APIClient) -> None:
    room(manager_client)
    for _ in range(3):
        post(manager_client, "lab-1", (0, 23.0))
    assert len(alarms()) == 1
    assert alarms()[0]["readings"] == 1


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ({"alarm_delay": "-5m"}, "alarm_delay"),
        ({"alarm_delay": "soon"}, "alarm_delay"),
        ({"alarm_delay": 15}, "alarm_delay"),
        ({"alarm_deadband_c": -0.5}, "alarm_deadband_c"),
        ({"alarm_deadband_c": "1"}, "alarm_deadband_c"),
        ({"alarms_enabled": "yes please"}, "alarms_enabled"),
    ],
)
def test_a_bad_alarm_rule_is_a_400_naming_it_and_changes_nothing(
    manager_client: APIClient, rules: dict[str, Any], field: str
) -> None:
    room(manager_client, alarm_delay="PT5M")
    response = manager_client.patch(
        "/api/rooms/lab-1", {"name": "Balance room", **rules}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    stored = Room.objects.get(pk="lab-1")
    assert (stored.name, stored.alarm_delay, stored.alarms_enabled) == (
        "",
        timedelta(minutes=5),
        True,
    )


def test_zero_is_a_delay(manager_client: APIClient) -> None:
    room(manager_client, alarm_delay="PT15M")
    response = manager_client.patch("/api/rooms/lab-1", {"alarm_delay": "0s"}, format="json")
    assert response.status_code == 200
    post(manager_client, "lab-1", (0, 23.0))
    assert len(alarms()) == 1
