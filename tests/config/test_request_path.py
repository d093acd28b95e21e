"""The request path's rules through Django's and DRF's own doors: permissions from Django's
model, the sensor rule on every route (present and future)."""

from collections.abc import Callable

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
