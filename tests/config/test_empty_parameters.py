"""A query parameter given empty is a bad value, not a missing one (DESIGN §4.1): on every
route, for every parameter the route documents, `?name=` is a 400 naming it and changes
nothing; only a parameter left out takes its default. The routes and their parameters come
from the OpenAPI schema, so a route or a parameter added later is held to it too."""

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from config.api.query import BLANK
from measurements.models import Room
from monitoring.models import Alarm, NotificationTarget
from tagging.models import Tag, TagAssignment
from tests.factories import (
    CalibrationFactory,
    InstrumentFactory,
    MeasurementFactory,
    RoomFactory,
    TagAssignmentFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


SCHEMA = SchemaGenerator().get_schema(request=None, public=True)


def _operations() -> list[tuple[str, str, list[str]]]:
    schema = SCHEMA
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            found.append((method, path, names))
    return found


OPERATIONS = _operations()
PARAMETERS = [(m, p, name) for m, p, names in OPERATIONS for name in names]
# What the routes' bodies need to be valid, so the empty parameter is the only fault.
BODIES: dict[tuple[str, str], Any] = {
    ("patch", "/api/rooms/{room_id}/"): {"name": "Renamed"},
}


@pytest.fixture
def superuser_client(client_for: Any) -> APIClient:
    return client_for(UserFactory(username="root", is_staff=True, is_superuser=True))


@pytest.fixture
def records() -> dict[str, str]:
    calibration = CalibrationFactory()
    tag = TagFactory(name="baseline-2025")
    TagAssignmentFactory(calibration=calibration, tag=tag)
    room = RoomFactory(room_id="lab-1", name="Lab")
    MeasurementFactory(room=room)
    InstrumentFactory(instrument_id="TH-1")
    # Alarms and targets are found by integer ids: one of each numbered 1.
    Alarm.objects.create(id=1, room=room, kind="high", opened_at=room.created_at, peak=25.0)
    NotificationTarget.objects.create(id=1, name="lab", url="json://127.0.0.1:9/lab")
    return {
        "{calibration_id}": str(calibration.pk),
        "{tag}": str(tag.name),
        "{room_id}": "lab-1",
        "{duration}": "1h",
        "{instrument_id}": "TH-1",
        "{id}": "1",
    }


def _url(path: str, records: dict[str, str]) -> str:
    for placeholder, value in records.items():
        path = path.replace(placeholder, value)
    return path


def _state() -> tuple[Any, ...]:
    return (
        list(Room.objects.values_list("room_id", "name", "min_c", "max_c")),
        list(Tag.objects.values_list("name", flat=True)),
        list(TagAssignment.objects.values_list("pk", "removed_at")),
    )


def test_the_schema_documents_query_parameters_for_the_walk_below() -> None:
    # Guards the walk itself: if the schema stopped listing them, the tests below would pass
    # by testing nothing.
    assert len(PARAMETERS) >= 40
    assert ("get", "/api/snapshot/", "format") in PARAMETERS
    assert ("get", "/api/measurements/{room_id}/average/{duration}/", "method") in PARAMETERS


def test_the_schema_says_a_text_query_parameter_is_never_empty() -> None:
    for operations in SCHEMA["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query" and parameter["schema"].get("type") == "string":
                    assert parameter["schema"]["minLength"] == 1, parameter


@pytest.mark.parametrize(("method", "path", "name"), PARAMETERS)
@pytest.mark.parametrize("empty", ["", " "])
def test_every_documented_query_parameter_given_empty_is_a_400_naming_it(
    superuser_client: APIClient,
    records: dict[str, str],
    method: str,
    path: str,
    name: str,
    empty: str,
) -> None:
    before = _state()
    url = f"{_url(path, records)}?{name}={empty}"
    response = getattr(superuser_client, method)(url, BODIES.get((method, path)), format="json")
    assert response.status_code == 400, (url, response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert name in response.json(), response.json()
    assert _state() == before


@pytest.mark.parametrize(("method", "path", "names"), OPERATIONS)
def test_drf_s_format_override_given_empty_is_a_400_on_every_route(
    superuser_client: APIClient, records: dict[str, str], method: str, path: str, names: list[str]
) -> None:
    before = _state()
    response = getattr(superuser_client, method)(
        f"{_url(path, records)}?format=", BODIES.get((method, path)), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"format": [BLANK]}
    assert _state() == before


@pytest.mark.parametrize("url", ["/api/schema?format=", "/api/schema/?format="])
def test_the_schema_s_format_given_empty_is_a_json_400(api_client: APIClient, url: str) -> None:
    response = api_client.get(url)
    assert response.status_code == 400
    assert response.json() == {"format": [BLANK]}


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/measurements/lab-1/average/1h?method=", "method"),
        ("/api/snapshot?format=", "format"),
        ("/api/calibrations/{calibration_id}/tags?timestamp=", "timestamp"),
        ("/api/measurements/lab-1/average/1h?unit=", "unit"),
        ("/api/calibrations?page_size=", "page_size"),
        ("/api/calibrations?cursor=", "cursor"),
        ("/api/calibrations?ordering=", "ordering"),
        ("/api/calibrations?tag=", "tag"),
        ("/api/calibrations?unit=C&unit=", None),  # not a parameter of this route: ignored
        ("/api/rooms?unit=C&unit=", "unit"),  # repeated, one of them empty
    ],
)
def test_the_audit_s_empty_parameters_are_refused_where_they_answered_the_default(
    superuser_client: APIClient, records: dict[str, str], url: str, parameter: str | None
) -> None:
    response = superuser_client.get(_url(url, records))
    if parameter is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_a_parameter_left_out_still_takes_its_default(
    superuser_client: APIClient, records: dict[str, str]
) -> None:
    average = superuser_client.get("/api/measurements/lab-1/average/1h")
    assert average.status_code == 200
    assert (average.json()["unit"], average.json()["method"]) == ("C", "mean")
    snapshot = superuser_client.get("/api/snapshot")
    assert snapshot["Content-Type"] == "application/x-ndjson"
    tags = superuser_client.get(f"/api/calibrations/{records['{calibration_id}']}/tags")
    assert tags.json() == ["baseline-2025"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/rooms?unit=c",
        "/api/rooms/lab-1?unit=celsius",
        "/api/measurements/lab-1?unit=c",
        "/api/measurements/lab-1/average/1h?unit=c",
        "/api/measurements/lab-1/series?unit=c",
        "/api/measurements/lab-1/excursions?unit=c",
    ],
)
def test_an_unknown_unit_is_refused_with_the_units_there_are(
    superuser_client: APIClient, records: dict[str, str], url: str
) -> None:
    response = superuser_client.get(url)
    assert response.status_code == 400
    (message,) = response.json()["unit"]
    assert message.endswith("is not one of the choices: C, F, K."), message


def test_an_unknown_method_is_refused_with_the_methods_there_are(
    superuser_client: APIClient, records: dict[str, str]
) -> None:
    response = superuser_client.get("/api/measurements/lab-1/average/1h?method=median")
    assert response.status_code == 400
    assert response.json()["method"][0].startswith('"median" is not one of the choices: mean')


def test_an_unknown_choice_of_a_filter_is_refused_with_the_choices_there_are(
    superuser_client: APIClient,
) -> None:
    response = superuser_client.get("/api/alarms?kind=hot")
    assert response.status_code == 400
    assert response.json() == {"kind": ['"hot" is not one of the choices: high, low, no_data.']}
