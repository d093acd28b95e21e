"""Rooms as a lab monitors them: the acceptable range, `PATCH /api/rooms/{id}`, and status."""

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.test import APIClient

from measurements.models import Room
from tests.factories import MeasurementFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manager_client(client_for: Callable[[User], APIClient]) -> APIClient:
    """May change rooms (`measurements.change_room`), nothing else."""
    return client_for(UserFactory(username="manager", permissions=["measurements.change_room"]))


def _range(room_id: str = "lab-1") -> tuple[str, float | None, float | None]:
    room = Room.objects.get(pk=room_id)
    return room.name, room.min_c, room.max_c


# --- The range in the database ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_c", "max_c"),
    [(18.0, None), (None, 22.0), (22.0, 22.0), (23.0, 22.0), (-300.0, 20.0), (20.0, 2e6)],
)
def test_the_database_refuses_a_range_that_is_not_both_bounds_in_order(
    min_c: float | None, max_c: float | None
) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(room_id="lab-1", min_c=min_c, max_c=max_c)


def test_the_database_refuses_an_infinite_bound() -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(room_id="lab-1", min_c=18.0, max_c=float("inf"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Room.objects.create(room_id="lab-2", min_c=float("-inf"), max_c=18.0)


def test_the_database_takes_no_range_or_a_proper_one() -> None:
    Room.objects.create(room_id="open")
    Room.objects.create(room_id="balance", min_c=18.0, max_c=22.0)
    assert Room.objects.get(pk="balance").max_c == 22.0


# --- PATCH ----------------------------------------------------------------------------------


def test_staff_with_change_room_set_a_range_and_get_the_room_back(
    manager_client: APIClient, now: datetime
) -> None:
    MeasurementFactory(room=RoomFactory(room_id="lab-1"), timestamp=now, value=23.0)
    response = manager_client.patch("/api/rooms/lab-1", {"min_c": 18, "max_c": 22.5})
    assert response.status_code == 200, response.content
    body = response.json()
    assert list(body) == [
        "room_id",
        "name",
        "created_at",
        "min_c",
        "max_c",
        "status",
        "last_reading",
        "open_alarms",
    ]
    assert (body["min_c"], body["max_c"], body["status"]) == (18.0, 22.5, "high")
    assert _range() == ("", 18.0, 22.5)
    assert manager_client.get("/api/rooms/lab-1").json() == body


def test_patch_changes_any_subset_and_checks_the_range_that_results(
    manager_client: APIClient,
) -> None:
    RoomFactory(room_id="lab-1")
    assert manager_client.patch("/api/rooms/lab-1/", {"name": " Balance room "}).status_code == 200
    assert _range() == ("Balance room", None, None)
    assert manager_client.patch("/api/rooms/lab-1", {"min_c": 18, "max_c": 22}).status_code == 200
    # One bound alone is fine when the other is already set and the result is in order.
    widen = {"max_c": 24, "reason": "SOP-12 rev. 4"}
    assert manager_client.patch("/api/rooms/lab-1", widen).status_code == 200
    assert _range() == ("Balance room", 18.0, 24.0)
    response = manager_client.patch("/api/rooms/lab-1", {"min_c": 25, "reason": "r"})
    assert response.status_code == 400
    assert "below the maximum" in response.json()["min_c"][0]
    # Clearing one bound alone would leave half a range; clearing both removes it.
    response = manager_client.patch("/api/rooms/lab-1", {"max_c": None, "reason": "r"})
    assert response.status_code == 400
    assert "both bounds" in response.json()["max_c"][0]
    assert _range() == ("Balance room", 18.0, 24.0)
    clear = {"min_c": None, "max_c": None, "reason": "room decommissioned"}
    response = manager_client.patch("/api/rooms/lab-1", clear)
    assert response.status_code == 200
    assert response.json()["min_c"] is None
    assert _range() == ("Balance room", None, None)
    assert manager_client.patch("/api/rooms/lab-1", {}).status_code == 200  # nothing to change


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"min_c": 18}, "max_c"),
        ({"max_c": 22}, "min_c"),
        ({"min_c": 22, "max_c": 22}, "min_c"),
        ({"min_c": 23, "max_c": 22}, "min_c"),
        ({"min_c": "18", "max_c": 22}, "min_c"),
        ({"min_c": 18, "max_c": "22"}, "max_c"),
        ({"min_c": True, "max_c": 22}, "min_c"),
        ('{"min_c": 18, "max_c": 1e999}', "max_c"),
        ('{"min_c": -1e999, "max_c": 22}', "min_c"),
        ({"min_c": -274, "max_c": 22}, "min_c"),
        ({"min_c": 18, "max_c": 1e7}, "max_c"),
        ({"min_c": 18, "max_c": 22, "name": 5}, "name"),
        ({"min_c": 18, "max_c": 22, "name": "x" * 201}, "name"),
        ({"min_c": 18, "max_c": 22, "name": "a\nb"}, "name"),
    ],
)
def test_a_bad_range_or_name_is_a_400_keyed_by_field_and_changes_nothing(
    manager_client: APIClient, body: dict[str, object] | str, field: str
) -> None:
    RoomFactory(room_id="lab-1", name="Lab")
    # Out-of-range numbers (1e999 decodes to infinity) can only be sent as raw JSON text.
    text = body if isinstance(body, str) else json.dumps(body)
    response = manager_client.patch("/api/rooms/lab-1", text, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert _range() == ("Lab", None, None)


def test_a_body_that_is_not_an_object_is_a_400(manager_client: APIClient) -> None:
    RoomFactory(room_id="lab-1")
    response = manager_client.patch("/api/rooms/lab-1", [18, 22], format="json")
    assert response.status_code == 400
    assert manager_client.patch(
        "/api/rooms/lab-1", "NaN", content_type="application/json"
    ).status_code in (400, 415)


def test_patch_needs_change_room_and_put_is_not_a_method_of_rooms(
    reader_client: APIClient,
    sensor_client: APIClient,
    client_for: Callable[[User], APIClient],
    manager_client: APIClient,
) -> None:
    RoomFactory(room_id="lab-1")
    range_ = {"min_c": 18, "max_c": 22}
    assert reader_client.patch("/api/rooms/lab-1", range_).status_code == 403
    assert sensor_client.patch("/api/rooms/lab-1", range_).status_code == 403
    measurer = client_for(
        UserFactory(username="m", permissions=["measurements.change_measurement"])
    )
    assert measurer.patch("/api/rooms/lab-1", range_).status_code == 403
    assert APIClient().patch("/api/rooms/lab-1", range_).status_code == 401
    assert _range() == ("", None, None)
    assert manager_client.put("/api/rooms/lab-1", range_).status_code == 405
    assert manager_client.delete("/api/rooms/lab-1").status_code == 405
    assert manager_client.post("/api/rooms", {"room_id": "x"}).status_code == 405
    assert manager_client.patch("/api/rooms/nowhere", range_).status_code == 404
    assert manager_client.patch("/api/rooms/bad%00id", range_).status_code == 404
    assert _range() == ("", None, None)


# --- Status -------------------------------------------------------------------------------


def _status(client: APIClient, room_id: str) -> str:
    return str(client.get(f"/api/rooms/{room_id}").json()["status"])


def test_each_status_follows_the_last_reading_against_the_range(
    reader_client: APIClient, now: datetime
) -> None:
    cases = {
        "empty": (None, None, None),
        "old": (18.0, 22.0, (timedelta(minutes=15, microseconds=1), 20.0)),
        "just-fresh": (18.0, 22.0, (timedelta(minutes=15), 20.0)),
        "open": (None, None, (timedelta(minutes=1), 20.0)),
        "cold": (18.0, 22.0, (timedelta(minutes=1), 17.99)),
        "hot": (18.0, 22.0, (timedelta(minutes=1), 22.01)),
        "on-min": (18.0, 22.0, (timedelta(0), 18.0)),
        "on-max": (18.0, 22.0, (timedelta(0), 22.0)),
    }
    for room_id, (low, high, reading) in cases.items():
        room = RoomFactory(room_id=room_id, min_c=low, max_c=high)
        if reading:
            age, value = reading
            # An older out-of-range reading does not count: only the last one does.
            MeasurementFactory(room=room, timestamp=now - age - timedelta(hours=1), value=99.0)
            MeasurementFactory(room=room, timestamp=now - age, value=value)
    expected = {
        "empty": "no_data",
        "old": "stale",
        "just-fresh": "ok",
        "open": "no_range",
        "cold": "low",
        "hot": "high",
        "on-min": "ok",
        "on-max": "ok",
    }
    listed = reader_client.get("/api/rooms").json()["results"]
    assert {room["room_id"]: room["status"] for room in listed} == expected
    assert {room_id: _status(reader_client, room_id) for room_id in cases} == expected


def test_stale_after_follows_the_setting(
    reader_client: APIClient, now: datetime, settings: pytest.FixtureRequest
) -> None:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(minutes=30), value=20.0)
    assert _status(reader_client, "lab-1") == "stale"
    settings.ROOM_STALE_AFTER = timedelta(hours=1)  # type: ignore[attr-defined]
    assert _status(reader_client, "lab-1") == "ok"


@pytest.mark.parametrize(("value", "ok"), [("PT5M", True), ("2h", True), ("soon", False)])
def test_room_stale_after_takes_the_duration_formats_and_a_bad_one_stops_start_up(
    value: str, ok: bool
) -> None:
    env = {
        **os.environ,
        "ROOM_STALE_AFTER": value,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert (result.returncode == 0) == ok, result.stderr
    if not ok:
        assert "ROOM_STALE_AFTER" in result.stderr
        assert "not a duration" in result.stderr


def test_the_rooms_list_with_status_is_two_queries_whatever_the_page_size(
    reader_client: APIClient,
    now: datetime,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for i in range(30):
        room = RoomFactory(
            room_id=f"r{i:02d}", min_c=18.0 if i % 2 else None, max_c=22.0 if i % 2 else None
        )
        MeasurementFactory(room=room, timestamp=now - timedelta(minutes=i), value=15.0 + i % 10)
    # 1. the token with its user; 2.–3. its permissions, direct and through groups (the
    # sensor-account rule); 4. the page of rooms, each with its last reading and status as
    # subqueries of the same statement.
    with django_assert_num_queries(4):
        response = reader_client.get("/api/rooms", {"page_size": 30})
    statuses = {room["status"] for room in response.json()["results"]}
    assert statuses == {"no_range", "low", "ok", "high", "stale"}
