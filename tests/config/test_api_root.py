"""The integrators' console: the API root, DRF's sign-in, HTML forms that post JSON."""

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from config.api.browsable import code_spans
from tests.factories import CalibrationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

LINKS = {"calibrations", "tags", "rooms", "instruments", "snapshot", "schema", "docs", "redoc"}


@pytest.mark.parametrize("path", ["/api/", "/api"])
def test_the_api_root_links_every_collection_with_absolute_urls(
    reader_client: APIClient, path: str
) -> None:
    response = reader_client.get(path)
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= LINKS
    assert body["calibrations"] == "http://testserver/api/calibrations"
    assert body["snapshot"] == "http://testserver/api/snapshot"
    assert all(url.startswith("http://testserver/api/") for url in body.values())


@pytest.mark.parametrize("path", ["/api/", "/api"])
def test_an_anonymous_client_gets_a_json_401_at_the_root(api_client: APIClient, path: str) -> None:
    response = api_client.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_the_root_has_no_post(reader_client: APIClient) -> None:
    response = reader_client.post("/api/", {}, format="json")
    assert response.status_code == 405
    assert "detail" in response.json()


def test_a_sensor_account_is_refused_at_the_root(client_for) -> None:  # type: ignore[no-untyped-def]
    sensor = UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    assert client_for(sensor).get("/api/").status_code == 403


def test_a_browser_gets_the_root_as_a_page_with_a_log_in_link(client: Client) -> None:
    response = client.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    page = response.content.decode()
    assert "Calibration &amp; Measurement Service API" in page
    assert 'href="/api-auth/login/?next=/api/"' in page.replace("'", '"')


@pytest.mark.parametrize("path", ["/api-auth/login/", "/api-auth/login"])
def test_a_person_signs_in_to_the_browsable_api_and_lands_where_they_were(
    client: Client, path: str
) -> None:
    User.objects.create_user("ivy", password="ivy-pass-123")
    assert client.get(path).status_code == 200
    response = client.post(
        path, {"username": "ivy", "password": "ivy-pass-123", "next": "/api/calibrations"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/api/calibrations"
    page = client.get("/api/calibrations", HTTP_ACCEPT="text/html").content.decode()
    assert "ivy" in page
    assert "Log out" in page


def test_signing_out_of_the_browsable_api_ends_the_session(client: Client) -> None:
    user = User.objects.create_user("ivy", password="ivy-pass-123")
    client.force_login(user)
    assert client.post("/api-auth/logout/").status_code == 302
    assert client.get("/api/", HTTP_ACCEPT="application/json").status_code == 401


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/calibrations", 'name="calibration_type"'),
        ("/api/measurements/lab-1", 'name="value"'),
    ],
)
def test_post_routes_offer_an_html_form_of_their_body(
    admin_client: Client, path: str, field: str
) -> None:
    page = admin_client.get(path, HTTP_ACCEPT="text/html").content.decode()
    assert 'id="post-object-form"' in page
    assert field in page
    assert "console/api-forms" in page  # the script that sends the form as JSON


def test_the_add_tags_route_offers_a_form_with_a_tag_field(admin_client: Client) -> None:
    from tests.factories import CalibrationFactory

    calibration = CalibrationFactory()
    page = admin_client.get(
        f"/api/calibrations/{calibration.pk}/tags", HTTP_ACCEPT="text/html"
    ).content.decode()
    assert 'id="post-object-form"' in page
    assert 'name="tag"' in page


def test_a_form_encoded_body_is_still_a_415(writer_client: APIClient) -> None:
    CalibrationTypeFactory(name="gain")
    response = writer_client.post(
        "/api/calibrations", {"calibration_type": "gain", "value": "1.5"}, format="multipart"
    )
    assert response.status_code == 415
    assert "Unsupported media type" in response.json()["detail"]


def test_the_tag_filter_has_a_label_and_help_texts_show_code(admin_client: Client) -> None:
    page = admin_client.get("/api/calibrations", HTTP_ACCEPT="text/html").content.decode()
    assert "[invalid name]" not in page
    assert "<code>gain</code>" in page
    assert "`gain`" not in page


def test_code_spans_leave_attributes_alone() -> None:
    assert code_spans('<input value="`x`"> use `gain`') == (
        '<input value="`x`"> use <code>gain</code>'
    )


def test_the_served_schema_names_this_server_and_documents_json_bodies_only(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    assert schema["servers"] == [{"url": "http://testserver", "description": "This server"}]
    body = schema["paths"]["/api/calibrations/"]["post"]["requestBody"]["content"]
    assert list(body) == ["application/json"]
    assert schema["paths"]["/api/tags/"]["get"]["summary"]
