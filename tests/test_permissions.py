"""Each write needs exactly its model permission; a superuser may do everything.

Status codes per role and route (anonymous, reader, sensor, …) are the permission matrix's
(tests/reliability/test_permission_matrix.py); tokens and CSRF are test_security.py's."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("permission", "method", "path", "body", "allowed_status"),
    [
        (
            "calibrations.add_calibration",
            "post",
            "/api/calibrations",
            {"calibration_type": "gain", "value": 1},
            201,
        ),
        ("tagging.add_tagassignment", "post", "{c}/tags", {"tag": "new"}, 201),
        ("tagging.change_tagassignment", "delete", "{c}/tags/t", None, 200),
        ("tagging.change_tagassignment", "post", "/api/tags/t/archive", None, 200),
    ],
)
def test_each_write_needs_exactly_its_model_permission(
    client_for: Callable[[User], APIClient],
    permission: str,
    method: str,
    path: str,
    body: dict[str, object] | None,
    allowed_status: int,
) -> None:
    calibration = CalibrationFactory()
    TagAssignmentFactory(calibration=calibration, tag=TagFactory(name="t"))
    url = path.format(c=f"/api/calibrations/{calibration.pk}")
    others = [
        p
        for p in (
            "calibrations.add_calibration",
            "tagging.add_tagassignment",
            "tagging.change_tagassignment",
        )
        if p != permission
    ]
    without = client_for(UserFactory(username="without", permissions=others))
    assert getattr(without, method)(url, body, format="json").status_code == 403
    with_it = client_for(UserFactory(username="with", permissions=[permission]))
    assert getattr(with_it, method)(url, body, format="json").status_code == allowed_status


def test_a_superuser_may_do_everything(
    client_for: Callable[[User], APIClient], superuser: User
) -> None:
    client = client_for(superuser)
    created = client.post(
        "/api/calibrations", {"calibration_type": "gain", "value": 1, "tags": ["t"]}, format="json"
    )
    assert created.status_code == 201
    assert client.post("/api/tags/t/archive").json()["removed"] == 1


def test_session_authentication_works_for_the_browsable_api(superuser: User) -> None:
    client = APIClient()
    client.force_login(superuser)
    assert client.get("/api/calibrations").status_code == 200
    html = client.get("/api/calibrations", HTTP_ACCEPT="text/html")
    assert html.status_code == 200
    assert b"Calibration" in html.content
