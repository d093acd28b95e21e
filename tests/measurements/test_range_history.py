"""A room's range history (DESIGN §3 RangeVersion, §4.5): `PATCH /api/rooms/{id}` writes a
version per range change, with a reason after the first; `GET /api/rooms/{id}/range-history`;
the database keeps one version per number and a reason after version 1; the migration gives
every room that had a range its version 1."""

import importlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from measurements.models import RangeVersion, Room
from measurements.services import room_create, room_update
from tests.factories import RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/rooms/lab-1"
HISTORY = "/api/rooms/lab-1/range-history"


@pytest.fixture
def manager(db: None) -> User:
    return UserFactory(username="manager", permissions=["measurements.change_room"])


@pytest.fixture
def manager_client(client_for: Callable[[User], APIClient], manager: User) -> APIClient:
    return client_for(manager)


def _versions(room_id: str = "lab-1") -> list[tuple[int, float | None, float | None, str]]:
    return [(v.version, v.min_c, v.max_c, v.reason) for v in RangeVersion.objects.of_room(room_id)]


def test_the_first_range_needs_no_reason_and_is_version_1_by_whom_and_when(
    manager_client: APIClient, now: datetime
) -> None:
    RoomFactory(room_id="lab-1")
    response = manager_client.patch(URL, {"min_c": 18, "max_c": 22})
    assert response.status_code == 200, response.content
    assert manager_client.get(HISTORY).json() == [
        {
            "version": 1,
            "min_c": 18.0,
            "max_c": 22.0,
            "changed_at": "2025-06-01T12:00:00Z",
            "changed_by": "manager",
            "reason": "",
        }
    ]


def test_a_change_or_a_clearing_needs_a_reason_and_each_is_a_version_oldest_first(
    manager_client: APIClient, now: datetime
) -> None:
    RoomFactory(room_id="lab-1")
    manager_client.patch(URL, {"min_c": 18, "max_c": 22})
    widen = {"min_c": 17, "max_c": 23, "reason": "  SOP-12 rev. 4 widens the band "}
    assert manager_client.patch(URL, widen).status_code == 200
    clear = {"min_c": None, "max_c": None, "reason": "Room emptied for works"}
    assert manager_client.patch(URL, clear).status_code == 200
    # Setting a range again after clearing it is a change of the room's range too.
    again = {"min_c": 18.5, "max_c": 21.5, "reason": "Back in use"}
    assert manager_client.patch(URL, again).status_code == 200
    assert _versions() == [
        (1, 18.0, 22.0, ""),
        (2, 17.0, 23.0, "SOP-12 rev. 4 widens the band"),
        (3, None, None, "Room emptied for works"),
        (4, 18.5, 21.5, "Back in use"),
    ]
    body = manager_client.get(HISTORY + "/").json()
    assert [entry["version"] for entry in body] == [1, 2, 3, 4]
    assert (body[2]["min_c"], body[2]["max_c"]) == (None, None)
    room = Room.objects.get(pk="lab-1")
    assert (room.min_c, room.max_c) == (18.5, 21.5)  # the newest version


@pytest.mark.parametrize(
    "body",
    [
        {"min_c": 17, "max_c": 23},
        {"max_c": 23, "reason": ""},
        {"min_c": None, "max_c": None, "reason": " \t "},
        {"min_c": None, "max_c": None},
    ],
)
def test_a_range_change_without_a_reason_is_a_400_naming_reason_and_stores_nothing(
    manager_client: APIClient, now: datetime, body: dict[str, object]
) -> None:
    RoomFactory(room_id="lab-1")
    manager_client.patch(URL, {"min_c": 18, "max_c": 22})
    response = manager_client.patch(URL, {**body, "name": "renamed"}, format="json")
    assert response.status_code == 400, response.content
    assert "reason" in response.json()
    room = Room.objects.get(pk="lab-1")
    assert (room.name, room.min_c, room.max_c) == ("", 18.0, 22.0)
    assert _versions() == [(1, 18.0, 22.0, "")]


def test_a_reason_that_is_not_a_string_is_a_400(manager_client: APIClient) -> None:
    RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    response = manager_client.patch(URL, {"max_c": 23, "reason": 5}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert _versions() == [(1, 18.0, 22.0, "")]


def test_a_patch_that_leaves_the_range_as_it_is_writes_no_version(
    manager_client: APIClient,
) -> None:
    RoomFactory(room_id="lab-1")
    manager_client.patch(URL, {"min_c": 18, "max_c": 22})
    for body in ({"min_c": 18.0, "max_c": 22}, {"max_c": 22}, {"name": "Lab"}, {}):
        assert manager_client.patch(URL, body, format="json").status_code == 200
    assert _versions() == [(1, 18.0, 22.0, "")]


def test_a_room_that_never_had_a_range_has_an_empty_history_and_an_unknown_room_is_a_404(
    reader_client: APIClient, sensor_client: APIClient
) -> None:
    RoomFactory(room_id="lab-1")
    assert reader_client.get(HISTORY).json() == []
    assert reader_client.get("/api/rooms/nowhere/range-history").status_code == 404
    assert reader_client.get("/api/rooms/bad%00id/range-history").status_code == 404
    assert sensor_client.get(HISTORY).status_code == 403
    assert APIClient().get(HISTORY).status_code == 401
    assert reader_client.post(HISTORY, {}).status_code == 405


def test_the_admin_s_add_form_service_writes_version_1_with_the_room() -> None:
    staff = UserFactory(username="staff")
    room_create(room_id="vault", name="Vault", min_c=15.0, max_c=25.0, user=staff)
    version = RangeVersion.objects.get(room_id="vault")
    assert (version.version, version.min_c, version.max_c) == (1, 15.0, 25.0)
    assert (version.changed_by, version.reason) == ("staff", "")
    room_create(room_id="open")
    assert not RangeVersion.objects.filter(room_id="open").exists()


def test_the_service_refuses_a_change_without_a_reason_before_writing_anything() -> None:
    RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    with pytest.raises(ValidationError) as refused:
        room_update(room="lab-1", min_c=17.0, reason="")
    assert "reason" in refused.value.message_dict
    assert Room.objects.get(pk="lab-1").min_c == 18.0
    assert _versions() == [(1, 18.0, 22.0, "")]


def test_the_database_keeps_one_version_per_number_and_a_reason_after_the_first() -> None:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    at = datetime(2025, 1, 1, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction.atomic():
        RangeVersion.objects.create(room=room, version=1, min_c=1.0, max_c=2.0, changed_at=at)
    for reason in ("", "   "):
        with pytest.raises(IntegrityError), transaction.atomic():
            RangeVersion.objects.create(
                room=room, version=2, min_c=1.0, max_c=2.0, changed_at=at, reason=reason
            )
    with pytest.raises(IntegrityError), transaction.atomic():
        RangeVersion.objects.create(
            room=room, version=2, min_c=3.0, max_c=2.0, changed_at=at, reason="inverted"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RangeVersion.objects.create(
            room=room, version=0, min_c=1.0, max_c=2.0, changed_at=at, reason="zero"
        )
    RangeVersion.objects.create(room=room, version=2, changed_at=at, reason="cleared")
    assert _versions() == [(1, 18.0, 22.0, ""), (2, None, None, "cleared")]


def test_the_migration_gives_every_room_that_had_a_range_its_version_1_at_its_creation() -> None:
    created = datetime(2024, 5, 1, 8, 30, 0, 123456, tzinfo=UTC)
    # Made as before the range history: no service, so no version.
    Room.objects.create(room_id="balance", min_c=18.0, max_c=22.0, created_at=created)
    Room.objects.create(room_id="open", created_at=created)
    RoomFactory(room_id="kept", min_c=5.0, max_c=8.0)  # has its version 1 already
    migration = importlib.import_module("measurements.migrations.0004_range_version")
    editor = connection.schema_editor()
    migration.first_versions(django_apps, editor)
    migration.first_versions(django_apps, editor)  # again: nothing twice
    version = RangeVersion.objects.get(room_id="balance")
    assert (version.version, version.min_c, version.max_c) == (1, 18.0, 22.0)
    assert (version.changed_at, version.changed_by, version.reason) == (created, None, "")
    assert not RangeVersion.objects.filter(room_id="open").exists()
    assert RangeVersion.objects.filter(room_id="kept").count() == 1


def test_two_changes_of_one_room_number_their_versions_in_turn(now: datetime) -> None:
    RoomFactory(room_id="lab-1")
    room_update(room="lab-1", min_c=18.0, max_c=22.0)
    for step in range(3):
        room_update(room="lab-1", max_c=23.0 + step, reason=f"step {step}")
    assert [v[0] for v in _versions()] == [1, 2, 3, 4]
    assert all(v.changed_at == now for v in RangeVersion.objects.of_room("lab-1"))
    assert RangeVersion.objects.of_room("lab-1").last().max_c == 25.0  # type: ignore[union-attr]


def test_the_range_history_is_a_fixed_number_of_queries_whatever_its_length(
    reader_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    for version in range(2, 40):
        room_update(room="lab-1", max_c=22.0 + version, reason=f"change {version}")
    # 1. the token with its user; 2.–3. its permissions (the sensor-account rule); 4. the room;
    # 5. its versions.
    with django_assert_max_num_queries(5):
        response = reader_client.get(HISTORY)
    assert [entry["version"] for entry in response.json()] == list(range(1, 40))
