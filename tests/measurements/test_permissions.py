"""Who may do what with measurements: posting needs `add_measurement`, and a sensor account (that
permission and no other) may post readings and nothing else. The status codes of every role on
every route are the permission matrix's (tests/reliability/test_permission_matrix.py)."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User
from rest_framework.test import APIClient

from calibrations.models import Calibration
from measurements.models import Measurement
from tests.factories import CalibrationFactory, MeasurementFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

READING = {"value": 21.5, "timestamp": "2025-04-01T10:00:00Z"}
READS = [
    "/api/measurements/lab-1",
    "/api/measurements/lab-1/average/PT1H",
    "/api/measurements/lab-1/series",
    "/api/rooms",
    "/api/rooms/lab-1",
]


@pytest.fixture
def room() -> None:
    MeasurementFactory(room=RoomFactory(room_id="lab-1"))


def test_a_sensor_account_may_post_readings_one_or_many(sensor_client: APIClient) -> None:
    assert sensor_client.post("/api/measurements/lab-1", READING).status_code == 201
    assert sensor_client.post("/api/measurements/lab-1/", [READING]).status_code == 201
    assert Measurement.objects.count() == 1


def test_a_sensor_account_may_not_read_anything_or_write_anything_else(
    sensor_client: APIClient, room: None
) -> None:
    calibration = CalibrationFactory()
    forbidden = [
        *(("get", url, None) for url in READS),
        ("get", "/api/calibrations", None),
        ("get", f"/api/calibrations/{calibration.pk}", None),
        ("post", "/api/calibrations", {"calibration_type": "gain", "value": 1}),
        ("post", f"/api/calibrations/{calibration.pk}/tags", {"tag": "x"}),
        ("get", "/api/tags", None),
        ("post", "/api/tags/x/archive", None),
        ("delete", "/api/measurements/lab-1", None),
    ]
    for method, url, body in forbidden:
        response = getattr(sensor_client, method)(url, body, format="json")
        assert response.status_code == 403, (method, url)
        assert "sensor account" in response.json()["detail"]
    assert Calibration.objects.count() == 1


def test_a_sensor_permission_given_through_a_group_makes_a_sensor_account_too(
    client_for: Callable[[User], APIClient], room: None
) -> None:
    group = Group.objects.create(name="sensors")
    group.permissions.add(Permission.objects.get(codename="add_measurement"))
    user = UserFactory(username="probe")
    user.groups.add(group)
    client = client_for(user)
    assert client.get("/api/rooms").status_code == 403
    assert client.post("/api/measurements/lab-1", {"value": 20}).status_code == 201


def test_an_account_that_may_post_readings_and_more_may_also_read(
    client_for: Callable[[User], APIClient], room: None
) -> None:
    user = UserFactory(
        username="integrator",
        permissions=["measurements.add_measurement", "calibrations.add_calibration"],
    )
    client = client_for(user)
    assert client.get("/api/rooms").status_code == 200
    assert client.post("/api/measurements/lab-1", {"value": 20}).status_code == 201


def test_a_superuser_is_never_a_sensor_account(
    client_for: Callable[[User], APIClient], superuser: User, room: None
) -> None:
    superuser.user_permissions.add(Permission.objects.get(codename="add_measurement"))
    client = client_for(superuser)
    assert client.get("/api/rooms").status_code == 200
    assert client.post("/api/measurements/lab-1", {"value": 20}).status_code == 201


def test_a_sensor_signed_in_with_a_session_is_restricted_too(sensor: User, room: None) -> None:
    client = APIClient()
    client.force_login(sensor)
    assert client.get("/api/rooms").status_code == 403
    assert client.post("/api/measurements/lab-1", {"value": 20}, format="json").status_code == 201


def test_without_add_measurement_posting_is_forbidden(
    client_for: Callable[[User], APIClient], room: None
) -> None:
    client = client_for(UserFactory(username="lab", permissions=["calibrations.add_calibration"]))
    assert client.post("/api/measurements/lab-1", READING).status_code == 403
    assert Measurement.objects.count() == 1


def test_every_measurement_route_renders_in_the_browsable_api(superuser: User, room: None) -> None:
    client = APIClient()
    client.force_login(superuser)
    for url in READS:
        response = client.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert b"<html" in response.content
