"""Who may do what: anonymous 401, signed-in readers read, writers need the model permission."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tagging.models import TagAssignment
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db


def routes(calibration: Calibration) -> list[tuple[str, str, dict[str, object] | None]]:
    c = f"/api/calibrations/{calibration.pk}"
    return [
        ("get", "/api/calibrations", None),
        ("post", "/api/calibrations", {"calibration_type": "gain", "value": 1}),
        ("get", c, None),
        ("get", f"{c}/tags", None),
        ("post", f"{c}/tags", {"tag": "new"}),
        ("delete", f"{c}/tags/t", None),
        ("get", f"{c}/tag-history", None),
        ("get", "/api/tags", None),
        ("get", "/api/tags/t", None),
        ("get", "/api/tags/t/calibrations", None),
        ("post", "/api/tags/t/archive", None),
    ]


def test_anonymous_requests_get_401_with_a_json_body(api_client: APIClient) -> None:
    calibration = CalibrationFactory()
    for method, url, body in routes(calibration):
        response = getattr(api_client, method)(url, body, format="json")
        assert response.status_code == 401, (method, url)
        assert "detail" in response.json()
        assert response["WWW-Authenticate"] == "Token"


def test_a_reader_may_read_everything_and_write_nothing(reader_client: APIClient) -> None:
    calibration = CalibrationFactory()
    TagAssignmentFactory(calibration=calibration, tag=TagFactory(name="t"))
    for method, url, body in routes(calibration):
        response = getattr(reader_client, method)(url, body, format="json")
        expected = 200 if method == "get" else 403
        assert response.status_code == expected, (method, url, response.content)
    assert Calibration.objects.count() == 1
    assert TagAssignment.objects.active().count() == 1


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


def test_session_writes_need_a_csrf_token(superuser: User) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(superuser)
    response = client.post(
        "/api/calibrations", {"calibration_type": "gain", "value": 1}, format="json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Calibration.objects.exists()


def test_a_revoked_token_no_longer_authenticates(
    client_for: Callable[[User], APIClient], reader: User
) -> None:
    client = client_for(reader)
    assert client.get("/api/tags").status_code == 200
    reader.auth_token.delete()  # type: ignore[attr-defined]
    assert client.get("/api/tags").status_code == 401
