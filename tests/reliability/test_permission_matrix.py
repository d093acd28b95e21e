"""Who may do what, route by route and method by method (DESIGN §4.1).

Five roles × every API route, with and without its trailing slash × GET/POST/PUT/PATCH/DELETE.
A refused request (401, 403, 405) changes nothing. `test_the_matrix_covers_every_route_in_the_schema`
fails when a route is added without a row here.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission, User
from django.core.management.color import no_style
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calibrations.models import Calibration, Instrument
from calibrations.services import calibration_create
from measurements.models import Measurement, Room
from monitoring.models import Alarm, NotificationTarget, Placement
from tagging.models import Tag, TagAssignment
from tests.factories import (
    CalibrationTypeFactory,
    InstrumentFactory,
    MeasurementFactory,
    RoomFactory,
    TagAssignmentFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "no_permission", "sensor", "staff", "superuser"]
METHODS = ["get", "post", "put", "patch", "delete"]
CALIBRATION_ID = "5b3a1c5e-7d42-4a8e-9d8e-0c1f2a3b4c5d"
PLACEMENT_ID = 7


@dataclass(frozen=True)
class Write:
    """A write a route has: the permission it needs, the body, and the status on success."""

    permission: str
    status: int
    body: object = None
    sensor: bool = False  # a sensor account may do this (and nothing else)


@dataclass(frozen=True)
class Route:
    path: str
    schema_path: str
    reads: bool = True
    writes: dict[str, Write] = field(default_factory=dict)
    read_type: str = "application/json"  # the Content-Type of a successful read
    read_permission: str | None = None  # reads that need more than a signed-in user


C = f"/api/calibrations/{CALIBRATION_ID}"
ROUTES = [
    Route("/api", "/api/"),
    Route(
        "/api/calibrations",
        "/api/calibrations/",
        writes={
            "post": Write(
                "calibrations.add_calibration", 201, {"calibration_type": "gain", "value": 1}
            )
        },
    ),
    Route(C, "/api/calibrations/{calibration_id}/"),
    Route(
        f"{C}/tags",
        "/api/calibrations/{calibration_id}/tags/",
        writes={"post": Write("tagging.add_tagassignment", 201, {"tag": "new"})},
    ),
    Route(
        f"{C}/tags/t",
        "/api/calibrations/{calibration_id}/tags/{tag}/",
        reads=False,
        writes={"delete": Write("tagging.change_tagassignment", 200)},
    ),
    Route(f"{C}/tag-history", "/api/calibrations/{calibration_id}/tag-history/"),
    Route(f"{C}/history", "/api/calibrations/{calibration_id}/history/"),
    Route(f"{C}/impact", "/api/calibrations/{calibration_id}/impact/"),
    Route(
        "/api/instruments",
        "/api/instruments/",
        writes={
            "post": Write(
                "calibrations.add_instrument", 201, {"instrument_id": "TH-9", "name": "x"}
            )
        },
    ),
    Route(
        "/api/instruments/TH-1",
        "/api/instruments/{instrument_id}/",
        writes={"patch": Write("calibrations.change_instrument", 200, {"name": "Renamed"})},
    ),
    Route("/api/instruments/TH-1/calibrations", "/api/instruments/{instrument_id}/calibrations/"),
    Route(
        "/api/instruments/TH-2/placements",
        "/api/instruments/{instrument_id}/placements/",
        writes={
            "post": Write("monitoring.add_placement", 201, {"room_id": "lab-1", "sensor": "new"})
        },
    ),
    Route(
        f"/api/instruments/TH-1/placements/{PLACEMENT_ID}/remove",
        "/api/instruments/{instrument_id}/placements/{placement_id}/remove/",
        reads=False,
        writes={"post": Write("monitoring.change_placement", 200)},
    ),
    # A file: JSON Lines on success, JSON for every refusal.
    Route("/api/snapshot", "/api/snapshot/", read_type="application/x-ndjson"),
    Route("/api/tags", "/api/tags/"),
    Route("/api/tags/t", "/api/tags/{tag}/"),
    Route("/api/tags/t/calibrations", "/api/tags/{tag}/calibrations/"),
    Route(
        "/api/tags/t/archive",
        "/api/tags/{tag}/archive/",
        reads=False,
        writes={"post": Write("tagging.change_tagassignment", 200)},
    ),
    Route(
        "/api/measurements/lab-1",
        "/api/measurements/{room_id}/",
        writes={
            "post": Write(
                "measurements.add_measurement",
                201,
                {"value": 21.5, "timestamp": "2025-04-01T10:00:00Z"},
                sensor=True,
            )
        },
    ),
    Route(
        "/api/measurements/lab-1/average/PT1H", "/api/measurements/{room_id}/average/{duration}/"
    ),
    Route("/api/measurements/lab-1/series", "/api/measurements/{room_id}/series/"),
    Route("/api/measurements/lab-1/excursions", "/api/measurements/{room_id}/excursions/"),
    Route("/api/rooms", "/api/rooms/"),
    Route("/api/rooms/lab-1/placements", "/api/rooms/{room_id}/placements/"),
    Route(
        "/api/rooms/lab-1",
        "/api/rooms/{room_id}/",
        writes={"patch": Write("measurements.change_room", 200, {"min_c": 18, "max_c": 22})},
    ),
    Route("/api/rooms/lab-1/range-history", "/api/rooms/{room_id}/range-history/"),
    Route("/api/alarms", "/api/alarms/"),
    Route("/api/alarms/1", "/api/alarms/{id}/"),
    Route(
        "/api/alarms/1/acknowledge",
        "/api/alarms/{id}/acknowledge/",
        reads=False,
        writes={"post": Write("monitoring.change_alarm", 200, {"comment": "Checked."})},
    ),
    # Targets' URLs carry secrets: reading them needs their view permission too.
    Route(
        "/api/notification-targets",
        "/api/notification-targets/",
        read_permission="monitoring.view_notificationtarget",
        writes={
            "post": Write(
                "monitoring.add_notificationtarget",
                201,
                {"name": "hook", "url": "json://127.0.0.1:9/hook", "events": ["raised"]},
            )
        },
    ),
    Route(
        "/api/notification-targets/1",
        "/api/notification-targets/{id}/",
        read_permission="monitoring.view_notificationtarget",
        writes={"patch": Write("monitoring.change_notificationtarget", 200, {"enabled": False})},
    ),
]


def make_user(role: str) -> User | None:
    if role == "anonymous":
        return None
    if role == "superuser":
        return UserFactory(username="root", is_staff=True, is_superuser=True)
    user = UserFactory(username=role, is_staff=role == "staff")
    if role == "sensor":
        # A sensor account: may post readings and nothing else.
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="measurements", codename="add_measurement"
            )
        )
    return user


def client_as(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        key = Token.objects.get_or_create(user=user)[0].key
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def expected_status(role: str, user: User | None, route: Route, method: str) -> int:
    if user is None:
        return 401
    write = route.writes.get(method)
    if role == "sensor":
        # A sensor account may post readings and nothing else, reads included (403 first,
        # before 405: it learns nothing about the routes).
        return write.status if write and write.sensor else 403
    if method == "get" and route.reads:
        if route.read_permission and not user.has_perm(route.read_permission):
            return 403
        return 200
    if write is None:
        return 405
    return write.status if user.has_perm(write.permission) else 403


def snapshot() -> tuple[object, ...]:
    return (
        Calibration.objects.count(),
        Tag.objects.count(),
        sorted(TagAssignment.objects.values_list("id", "removed_at")),
        sorted(Room.objects.values_list("room_id", "name", "min_c", "max_c")),
        Measurement.objects.count(),
        sorted(Alarm.objects.values_list("id", "acknowledged_at")),
        sorted(NotificationTarget.objects.values_list("id", "name", "enabled")),
        sorted(Instrument.objects.values_list("instrument_id", "name")),
        sorted(Placement.objects.values_list("id", "removed_at")),
    )


@pytest.mark.parametrize("slash", ["", "/"], ids=["bare", "slash"])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("route", ROUTES, ids=[r.path.replace(C, "{c}") for r in ROUTES])
@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_what_it_may_on_every_route_and_method(
    role: str, route: Route, method: str, slash: str
) -> None:
    # Found out of tolerance on TH-1, which is placed in lab-1: it has an impact to read.
    instrument = InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="TH-2")
    calibration = calibration_create(
        calibration_type=CalibrationTypeFactory(name="check", lower_limit=0, upper_limit=1),
        value=5.0,
        username="alice",
        calibration_id=uuid.UUID(CALIBRATION_ID),
        instrument_id="TH-1",
    )
    TagAssignmentFactory(calibration=calibration, tag=TagFactory(name="t"))
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room)
    Alarm.objects.create(id=1, room=room, kind="high", opened_at=room.created_at, peak=25.0)
    NotificationTarget.objects.create(id=1, name="lab", url="json://127.0.0.1:9/lab")
    Placement.objects.create(
        id=PLACEMENT_ID,
        instrument=instrument,
        room=room,
        placed_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    # Rows given their ids leave PostgreSQL's sequences behind: a create through a route must
    # not be handed id 1 again (it was, in a process that had made no target before).
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(
            no_style(), [Alarm, NotificationTarget, Placement]
        ):
            cursor.execute(statement)
    user = make_user(role)
    before = snapshot()
    write = route.writes.get(method)
    body = write.body if write else None

    # Both forms of every route answer alike, for every method, without a redirect (§4.1).
    response = getattr(client_as(user), method)(route.path + slash, body, format="json")

    expected = expected_status(role, user, route, method)
    assert response.status_code == expected, (role, method, route.path + slash, response.content)
    success_read = method == "get" and expected == 200
    assert response["Content-Type"].startswith(
        route.read_type if success_read else "application/json"
    )
    if expected in (401, 403, 405):
        assert "detail" in response.json()
        assert snapshot() == before, "a refused request changed something"
    if expected == 401:
        assert response["WWW-Authenticate"] == "Token"


def test_the_matrix_covers_every_route_in_the_schema() -> None:
    schema = Client().get("/api/schema/?format=json").json()
    assert set(schema["paths"]) == {route.schema_path for route in ROUTES}
    for path, operations in schema["paths"].items():
        route = next(r for r in ROUTES if r.schema_path == path)
        documented = {m for m in operations if m in METHODS}
        assert documented == ({"get"} if route.reads else set()) | set(route.writes), path


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 302),  # to the login page
        ("no_permission", 302),  # not staff: the admin sends them to log in
        ("sensor", 302),
        ("staff", 403),  # staff, but no model permission
        ("superuser", 200),
    ],
)
@pytest.mark.parametrize(
    "url",
    [
        "/admin/calibrations/calibration/",
        "/admin/tagging/tag/",
        "/admin/measurements/room/",
        "/admin/measurements/measurement/",
        "/admin/calibrations/instrument/",
        "/admin/monitoring/placement/",
        "/admin/auth/user/",
    ],
)
def test_the_admin_lets_in_only_staff_with_the_model_permission(
    role: str, expected: int, url: str
) -> None:
    user = make_user(role)
    client = Client()
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == expected, (role, url)
    if expected == 302:
        assert response["Location"].startswith("/admin/login/")


def test_a_staff_member_with_view_permission_sees_the_changelist_but_cannot_add(
    client_for: Callable[[User], APIClient],
) -> None:
    user = UserFactory(
        username="viewer", is_staff=True, permissions=["calibrations.view_calibration"]
    )
    client = Client()
    client.force_login(user)
    assert client.get("/admin/calibrations/calibration/").status_code == 200
    assert client.get("/admin/calibrations/calibration/add/").status_code == 403
