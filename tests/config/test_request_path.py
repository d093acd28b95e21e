"""The request path's rules through Django's and DRF's own doors: permissions from Django's
model, the sensor rule on every route (present and future), imports pointing one way."""

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from calibrations.models import Calibration
from tests.factories import CalibrationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


class LaterView(APIView):
    """A route written after the sensor rule, which says nothing about sensors."""

    def get(self, request: Request) -> Response:
        return Response({"ok": True})


urlpatterns = [path("api/later", LaterView.as_view())]


@pytest.mark.urls("tests.config.test_request_path")
def test_a_route_added_later_refuses_a_sensor_account_without_opting_in(
    client_for: Callable[[User], APIClient], reader: User
) -> None:
    sensor = UserFactory(username="probe", permissions=["measurements.add_measurement"])
    refused = client_for(sensor).get("/api/later")
    assert refused.status_code == 403
    assert "sensor account" in refused.json()["detail"]
    assert client_for(reader).get("/api/later").json() == {"ok": True}


def test_a_write_permission_given_through_a_group_is_honoured(
    client_for: Callable[[User], APIClient],
) -> None:
    group = Group.objects.create(name="technicians")
    group.permissions.add(Permission.objects.get(codename="add_calibration"))
    user = UserFactory(username="tech")
    user.groups.add(group)
    CalibrationTypeFactory(name="gain")
    response = client_for(user).post(
        "/api/calibrations", {"calibration_type": "gain", "value": 1.0}, format="json"
    )
    assert response.status_code == 201
    assert Calibration.objects.get().created_by == user


def test_a_permission_taken_away_is_refused_on_the_next_request(
    client_for: Callable[[User], APIClient],
) -> None:
    user = UserFactory(username="tech", permissions=["calibrations.add_calibration"])
    CalibrationTypeFactory(name="gain")
    client = client_for(user)
    body = {"calibration_type": "gain", "value": 1.0}
    assert client.post("/api/calibrations", body, format="json").status_code == 201
    user.user_permissions.clear()
    assert client.post("/api/calibrations", body, format="json").status_code == 403
    assert Calibration.objects.count() == 1


def project_imports(module: Path) -> set[str]:
    """The top-level project packages a module imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
    return names


# The top layer, which shows tags beside calibrations and so may use tagging.
TOP_LAYER = {"admin.py", "filtersets.py", "api"}
LOWER_LAYER = sorted(
    str(path.relative_to(ROOT / "calibrations"))
    for path in (ROOT / "calibrations").rglob("*.py")
    if path.relative_to(ROOT / "calibrations").parts[0] not in TOP_LAYER | {"migrations"}
)


def test_the_lower_layer_is_found() -> None:
    assert {"models.py", "services.py", "signals.py"} <= set(LOWER_LAYER)


@pytest.mark.parametrize("module", LOWER_LAYER)
def test_the_calibrations_lower_layer_knows_nothing_of_tagging(module: str) -> None:
    # Tagging builds on calibrations; only calibrations' API and admin may use tagging.
    assert "tagging" not in project_imports(ROOT / "calibrations" / module)


class LaterWriteView(APIView):
    """A write route with no model and no named permission."""

    def post(self, request: Request) -> Response:
        return Response({"written": True})


urlpatterns.append(path("api/later-write", LaterWriteView.as_view()))


@pytest.mark.urls("tests.config.test_request_path")
def test_a_write_on_a_route_without_a_model_is_refused_unless_its_permission_is_named(
    client_for: Callable[[User], APIClient], writer: User
) -> None:
    response = client_for(writer).post("/api/later-write", {}, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.mark.urls("tests.config.test_request_path")
def test_a_method_a_plain_route_lacks_is_a_405_not_a_permission_error(
    client_for: Callable[[User], APIClient], reader: User
) -> None:
    response = client_for(reader).delete("/api/later")
    assert response.status_code == 405
    assert "detail" in response.json()
