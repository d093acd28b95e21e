"""Limits (DESIGN §4): body size, page size, list lengths. Refused with a JSON 4xx; nothing stored."""

from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, override_settings
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tagging.models import Tag, TagAssignment
from tests.factories import CalibrationFactory, CalibrationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_body_over_the_configured_size_is_a_json_413_and_stores_nothing(
    writer_client: APIClient,
) -> None:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    body = {"calibration_type": "gain", "value": 1, "username": "x" * (limit + 1)}
    response = writer_client.post("/api/calibrations", body, format="json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert str(limit) in response.json()["detail"]
    assert not Calibration.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=200)
def test_the_body_limit_is_a_setting(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    url = f"/api/calibrations/{calibration.pk}/tags"
    assert writer_client.post(url, {"tag": "short"}, format="json").status_code == 201
    response = writer_client.post(url, {"tags": [f"t{i:03}" for i in range(40)]}, format="json")
    assert response.status_code == 413
    assert "200 bytes" in response.json()["detail"]
    assert TagAssignment.objects.count() == 1


def test_the_limit_applies_before_authentication_and_outside_the_api() -> None:
    for url in ("/api/calibrations", "/admin/login/"):
        response = Client().post(
            url, "{}", content_type="application/json", CONTENT_LENGTH=str(10**9)
        )
        assert response.status_code == 413, url
        assert "detail" in response.json()


def test_a_malformed_content_length_is_a_json_400() -> None:
    response = Client().post(
        "/api/calibrations", "{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert response.status_code == 400
    assert "Content-Length" in response.json()["detail"]


def test_a_full_array_of_10000_readings_fits_under_the_default_body_limit(
    client_for: Callable[[User], APIClient],
) -> None:
    readings = [
        {
            "timestamp": f"2025-04-01T10:{i // 3600 % 60:02}:{i % 60:02}.{i:06}Z",
            "value": -12.345678,
            "unit": "C",
            "sensor": "sensor-with-a-long-name-01",
        }
        for i in range(10_000)
    ]
    sensor = UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    response = client_for(sensor).post("/api/measurements/lab-1", readings, format="json")
    assert response.status_code == 201
    assert response.json()["created"] == 10_000


def test_the_default_body_limit_refuses_anything_over_10_mib() -> None:
    response = Client().post(
        "/api/measurements/lab-1",
        "[]",
        content_type="application/json",
        CONTENT_LENGTH=str(10 * 1024 * 1024 + 1),
    )
    assert response.status_code == 413


@pytest.mark.parametrize("page_size", ["1000000", "99999999999999999999999999"])
def test_a_page_size_above_1000_is_capped_at_1000(reader_client: APIClient, page_size: str) -> None:
    gain = CalibrationTypeFactory(name="gain")
    Calibration.objects.bulk_create(
        Calibration(calibration_type=gain, value=1.0, username="alice") for _ in range(1001)
    )
    body = reader_client.get(f"/api/calibrations?page_size={page_size}").json()
    assert len(body["results"]) == 1000
    assert body["next"]


@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "1e3"])
def test_a_malformed_page_size_is_a_400(reader_client: APIClient, page_size: str) -> None:
    response = reader_client.get(f"/api/tags?page_size={page_size}")
    assert response.status_code == 400
    assert "page_size" in response.json()


def test_more_than_100_tags_in_one_request_is_a_400_and_adds_nothing(
    writer_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    response = writer_client.post(
        f"/api/calibrations/{calibration.pk}/tags",
        {"tags": [f"t{i}" for i in range(101)]},
        format="json",
    )
    assert response.status_code == 400
    assert "tags" in response.json()
    assert not Tag.objects.exists()
    created = writer_client.post(
        "/api/calibrations",
        {"calibration_type": "gain", "value": 1, "tags": [f"t{i}" for i in range(101)]},
        format="json",
    )
    assert created.status_code == 400
    assert Calibration.objects.count() == 1
