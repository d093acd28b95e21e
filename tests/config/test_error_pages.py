"""Errors Django itself answers (a refused Host header, a server error) are JSON under /api/ and
Django's own pages elsewhere.

The server error is real: a trigger created by the test makes the database refuse an insert, as
a broken migration or a full disk would; nothing is mocked.
"""

import logging
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, override_settings
from rest_framework.authtoken.models import Token

from calibrations.models import Calibration, CalibrationType
from tests.factories import CalibrationTypeFactory

pytestmark = pytest.mark.django_db

# Each database's way of refusing every new calibration with an error of its own.
REFUSE_INSERTS = {
    "postgresql": [
        """CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql
           AS $$ BEGIN RAISE EXCEPTION 'insert refused by the test'; END $$""",
        """CREATE TRIGGER test_refuse_insert BEFORE INSERT ON calibrations_calibration
           FOR EACH ROW EXECUTE FUNCTION test_refuse_insert()""",
    ],
    "sqlite": [
        """CREATE TRIGGER test_refuse_insert BEFORE INSERT ON calibrations_calibration
           BEGIN SELECT RAISE(ABORT, 'insert refused by the test'); END""",
    ],
}


UNDO = {
    "postgresql": [
        "DROP TRIGGER test_refuse_insert ON calibrations_calibration",
        "DROP FUNCTION test_refuse_insert()",
    ],
    "sqlite": ["DROP TRIGGER test_refuse_insert"],
}


@pytest.fixture
def inserts_fail() -> Iterator[None]:
    """Calibrations cannot be inserted until the test ends.

    The tests using it commit for real (`transaction=True`): a request whose statement failed
    inside the test's own transaction would leave it unusable for the checks that follow.
    """
    CalibrationTypeFactory(name="gain")
    with connection.cursor() as cursor:
        for statement in REFUSE_INSERTS[connection.vendor]:
            cursor.execute(statement)
    yield
    with connection.cursor() as cursor:
        for statement in UNDO[connection.vendor]:
            cursor.execute(statement)


@pytest.mark.django_db(transaction=True)
def test_a_database_error_in_the_api_is_a_json_500_and_is_logged(
    inserts_fail: None, superuser: User, caplog: pytest.LogCaptureFixture
) -> None:
    key = Token.objects.create(user=superuser).key
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.post(
            "/api/calibrations",
            {"calibration_type": "gain", "value": 1.5},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {key}",
        )
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal server error."}
    logged = [r for r in caplog.records if r.name == "config.api.exceptions"]
    assert [r.getMessage() for r in logged] == ["database error"]
    assert logged[0].exc_info
    assert "insert refused by the test" in str(logged[0].exc_info[1])  # with its traceback
    assert not Calibration.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_server_error_outside_the_api_is_djangos_html_page(
    inserts_fail: None, superuser: User
) -> None:
    client = Client(raise_request_exception=False)
    client.force_login(superuser)
    response = client.post(
        "/admin/calibrations/calibration/add/",
        {
            "calibration_type": CalibrationType.objects.get(name="gain").pk,
            "value": "1.5",
            "timestamp_0": "2025-04-01",
            "timestamp_1": "10:00:00",
            "username": "alice",
            "tag_assignments-TOTAL_FORMS": "0",
            "tag_assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"Server Error (500)" in response.content


@override_settings(ALLOWED_HOSTS=["lab.example.org"])
def test_a_refused_host_header_is_a_json_400_under_the_api() -> None:
    response = Client().get("/api/calibrations", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


@override_settings(ALLOWED_HOSTS=["lab.example.org"])
def test_a_refused_host_header_is_djangos_html_400_elsewhere() -> None:
    response = Client().get("/admin/login/", HTTP_HOST="attacker.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"Bad Request (400)" in response.content
