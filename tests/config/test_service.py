"""Probes, the schema and docs, and JSON errors outside any viewset."""

import pytest
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_authentication() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_answers_200_when_the_database_answers() -> None:
    response = Client().get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_schema_and_docs_are_public_and_served_from_our_own_static_files() -> None:
    client = Client()
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/calibrations",
        "/api/calibrations/{calibration_id}/tags",
        "/api/tags/{tag}/archive",
    ):
        assert any(p.rstrip("/") == path for p in paths), path
    for docs in ("/api/docs/", "/api/redoc/"):
        page = client.get(docs)
        assert page.status_code == 200
        html = page.content.decode()
        assert "/static/drf_spectacular_sidecar/" in html
        assert "cdn." not in html
        assert "unpkg" not in html


def test_an_unknown_api_route_is_a_json_404() -> None:
    response = Client().get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_drf_create_token_makes_a_token_that_authenticates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.factories import UserFactory

    UserFactory(username="integrator")
    call_command("drf_create_token", "integrator")
    out = capsys.readouterr().out.split()
    key = out[out.index("token") + 1]
    response = Client().get("/api/tags", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
