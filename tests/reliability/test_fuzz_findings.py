"""What the schemathesis fuzzer (`make fuzz`) found, kept so it never comes back."""

import base64
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def cursor(raw: str) -> str:
    return quote(base64.b64encode(raw.encode()).decode())


MALFORMED_CURSORS = [
    "not base64 at all ^%",  # was a 404 "Invalid cursor"
    "o=1&p=x\x00y",  # NUL, which PostgreSQL refuses in text: was a 500
    "o=-5",
]
# Positions that are no timestamp (the first two were 500s) or before year 1 in UTC.
NOT_A_TIMESTAMP = ["p=xyz", "p=aaaa&r=1", "p=0001-01-01T00:00:00+05:00"]


def get_with_cursor(client: APIClient, url: str, raw: str) -> object:
    TagAssignmentFactory(tag=TagFactory(name="t"))
    value = quote(raw) if raw.startswith("not") else cursor(raw)
    return client.get(f"{url}?cursor={value}")


@pytest.mark.parametrize("url", ["/api/calibrations", "/api/tags/t/calibrations"])
@pytest.mark.parametrize("raw", MALFORMED_CURSORS + NOT_A_TIMESTAMP)
def test_a_malformed_or_crafted_cursor_is_a_400_naming_the_cursor(
    reader_client: APIClient, url: str, raw: str
) -> None:
    response = get_with_cursor(reader_client, url, raw)
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()


@pytest.mark.parametrize("raw", MALFORMED_CURSORS)
def test_a_malformed_cursor_on_the_tag_list_is_a_400_naming_the_cursor(
    reader_client: APIClient, raw: str
) -> None:
    response = get_with_cursor(reader_client, "/api/tags", raw)
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()


@pytest.mark.parametrize("raw", NOT_A_TIMESTAMP)
def test_any_text_is_a_position_in_the_tag_list_which_is_ordered_by_name(
    reader_client: APIClient, raw: str
) -> None:
    response = get_with_cursor(reader_client, "/api/tags", raw)
    assert response.status_code == 200, response.content


def test_a_cursor_from_a_next_link_still_pages(reader_client: APIClient) -> None:
    CalibrationFactory.create_batch(3)
    first = reader_client.get("/api/calibrations?page_size=2").json()
    second = reader_client.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert len(second["results"]) == 1


def test_a_timestamp_filter_with_a_nul_byte_is_a_400_not_a_match(
    reader_client: APIClient,
) -> None:
    CalibrationFactory()
    response = reader_client.get("/api/calibrations?timestamp=2025-04-01T10:00:00%00")
    assert response.status_code == 400
    assert "timestamp" in response.json()


def test_adding_several_tags_answers_the_list_the_schema_documents(
    writer_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    response = writer_client.post(
        f"/api/calibrations/{calibration.pk}/tags", {"tags": ["a", "b"]}, format="json"
    )
    assert response.status_code == 201
    assert [a["tag"] for a in response.json()] == ["a", "b"]
    schema = APIClient().get("/api/schema/?format=json").json()
    result = schema["components"]["schemas"]["TagAddResult"]["oneOf"]
    assert {"type": "array", "items": {"$ref": "#/components/schemas/TagAssignment"}} in result
    operation = schema["paths"]["/api/calibrations/{calibration_id}/tags/"]["get"]
    names = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert names == {"type": "array", "items": {"type": "string"}}  # was an array of arrays
    assert Calibration.objects.count() == 1


@pytest.mark.parametrize("param", ["timestamp", "timestamp_after", "timestamp_before"])
def test_a_timestamp_filter_with_a_percent_sign_is_a_400_not_a_500(
    reader_client: APIClient, param: str
) -> None:
    # The error message quotes the input, and django-filter %-formats messages.
    response = reader_client.get(f"/api/calibrations?{param}=2025T%25s%25(x)s%25")
    assert response.status_code == 400
    assert "%(x)s" in response.json()[param][0]


@pytest.mark.parametrize(
    "body",
    [
        {"calibration_type": "gain", "value": 1.5, "username": 0},
        {"calibration_type": 1, "value": 1.5},
        {"calibration_type": True, "value": 1.5},
        {"calibration_type": "gain", "value": 1.5, "username": ["alice"]},
    ],
)
def test_text_fields_refuse_numbers_and_booleans_instead_of_coercing_them(
    writer_client: APIClient, body: dict[str, object]
) -> None:
    response = writer_client.post("/api/calibrations", body, format="json")
    assert response.status_code == 400
    assert "JSON string" in str(response.json())
    assert not Calibration.objects.exists()


def test_the_schema_says_page_size_starts_at_1() -> None:
    schema = APIClient().get("/api/schema/?format=json").json()
    for path in ("/api/calibrations/", "/api/tags/", "/api/tags/{tag}/calibrations/"):
        parameters = schema["paths"][path]["get"]["parameters"]
        page_size = next(p for p in parameters if p["name"] == "page_size")
        assert page_size["schema"]["minimum"] == 1, path


def test_a_single_reading_400_keyed_by_field_is_allowed_by_the_documented_schema(
    superuser: object,
) -> None:
    client = APIClient()
    client.force_authenticate(superuser)  # type: ignore[arg-type]
    response = client.post("/api/measurements/lab-1", {}, format="json")
    assert response.status_code == 400
    assert "value" in response.json()
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/measurements/{room_id}/"]["post"]
    ref = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
    error = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert not error.get("required")  # was ["detail", "errors", "index"]: refused this body


def test_every_operation_documents_the_servers_414_for_an_overlong_url() -> None:
    # gunicorn answers 414 itself for a request line over its limit (found with a 4 KB query).
    schema = APIClient().get("/api/schema/?format=json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "414" in operation["responses"], (method, path)
