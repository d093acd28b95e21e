"""Bodies no route can parse are a JSON 400, never a 500."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/api/calibrations", "/api/measurements/lab-1"])
def test_json_nested_too_deeply_to_decode_is_a_400(superuser_client: APIClient, url: str) -> None:
    body = "[" * 100_000 + "]" * 100_000
    response = superuser_client.post(url, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
