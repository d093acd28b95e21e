"""`/api/calibrations`: create, list with filters and cursor pages, read one."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.test import APIClient

from calibrations.api.serializers import CalibrationSerializer
from calibrations.models import Calibration
from tests.factories import (
    CalibrationFactory,
    CalibrationTypeFactory,
    TagAssignmentFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

URL = "/api/calibrations"


def test_created_calibration_is_returned_with_location_and_defaults(
    writer_client: APIClient,
) -> None:
    before = timezone.now()
    response = writer_client.post(URL, {"calibration_type": "gain", "value": 1.5}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["calibration_type"] == "gain"
    assert body["value"] == 1.5
    assert body["username"] == "writer"
    assert body["tags"] == []
    assert datetime.fromisoformat(body["timestamp"]) >= before
    assert response["Location"].endswith(f"/api/calibrations/{body['calibration_id']}")
    stored = Calibration.objects.get(pk=body["calibration_id"])
    assert stored.created_by is not None
    assert stored.created_by.username == "writer"


def test_created_calibration_keeps_the_given_timestamp_to_the_microsecond(
    writer_client: APIClient,
) -> None:
    response = writer_client.post(
        URL,
        {
            "calibration_type": "offset",
            "value": -2,
            "timestamp": "2025-04-01T12:00:00.123456+02:00",
            "username": "alice",
            "tags": ["baseline-2025", "Current-State"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["timestamp"] == "2025-04-01T10:00:00.123456Z"
    assert body["username"] == "alice"
    assert body["tags"] == ["baseline-2025", "Current-State"]
    # The timestamp sent back unchanged finds the same instant.
    listed = writer_client.get(URL, {"timestamp": body["timestamp"]}).json()["results"]
    assert [c["calibration_id"] for c in listed] == [body["calibration_id"]]


def test_timestamp_without_offset_means_utc(writer_client: APIClient) -> None:
    response = writer_client.post(
        URL,
        {"calibration_type": "gain", "value": 1, "timestamp": "2025-04-01T10:00:00"},
        format="json",
    )
    assert response.json()["timestamp"] == "2025-04-01T10:00:00Z"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": 1.0}, "calibration_type"),
        ({"calibration_type": "gain"}, "value"),
        ({"calibration_type": "gain", "value": "1.5"}, "value"),
        ({"calibration_type": "gain", "value": True}, "value"),
        ({"calibration_type": "gain", "value": None}, "value"),
        ({"calibration_type": "gain", "value": [1]}, "value"),
        ({"calibration_type": "gain", "value": 10**400}, "value"),
        ({"calibration_type": "gain", "value": 1, "timestamp": "yesterday"}, "timestamp"),
        (
            {"calibration_type": "gain", "value": 1, "timestamp": "2025-13-01T00:00:00Z"},
            "timestamp",
        ),
        ({"calibration_type": "gain", "value": 1, "timestamp": 1743501600}, "timestamp"),
        ({"calibration_type": "gain", "value": 1, "username": ""}, "username"),
        ({"calibration_type": "gain", "value": 1, "username": "x" * 151}, "username"),
        ({"calibration_type": "gain", "value": 1, "username": "a\x00b"}, "username"),
        ({"calibration_type": "gain", "value": 1, "tags": ["ok", "bad/name"]}, "tags"),
        ({"calibration_type": "gain", "value": 1, "tags": "not-a-list"}, "tags"),
        ({"calibration_type": ["gain"], "value": 1}, "calibration_type"),
    ],
)
def test_invalid_calibration_is_refused_by_field_and_stores_nothing(
    writer_client: APIClient, body: dict[str, object], field: str
) -> None:
    response = writer_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Calibration.objects.exists()


def test_unknown_calibration_type_lists_the_allowed_names(writer_client: APIClient) -> None:
    response = writer_client.post(URL, {"calibration_type": "voltage", "value": 1}, format="json")
    assert response.status_code == 400
    message = response.json()["calibration_type"][0]
    assert "voltage" in message
    for name in ("gain", "offset", "pressure", "temperature"):
        assert name in message


@pytest.mark.parametrize(
    "raw", ["NaN", "Infinity", "-Infinity", '{"value": 1', "not json", "[1, 2]"]
)
def test_non_json_or_non_finite_bodies_are_400(writer_client: APIClient, raw: str) -> None:
    body = (
        raw
        if raw.startswith(("{", "[", "n"))
        else f'{{"calibration_type": "gain", "value": {raw}}}'
    )
    response = writer_client.post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
    assert not Calibration.objects.exists()


def test_a_form_encoded_body_is_refused_as_unsupported(writer_client: APIClient) -> None:
    response = writer_client.post(
        URL, "calibration_type=gain&value=1", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert "detail" in response.json()


def test_one_calibration_by_id_and_unknown_or_malformed_ids_are_404(
    reader_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    response = reader_client.get(f"{URL}/{calibration.pk}")
    assert response.status_code == 200
    assert response.json()["calibration_id"] == str(calibration.pk)
    assert reader_client.get(f"{URL}/{uuid.uuid4()}").status_code == 404
    malformed = reader_client.get(f"{URL}/not-a-uuid")
    assert malformed.status_code == 404
    assert "detail" in malformed.json()


def test_one_calibration_is_found_by_its_id_alone_whatever_the_lists_filters_say(
    reader_client: APIClient,
) -> None:
    calibration = CalibrationFactory(username="alice")
    # The list's filters and ordering belong to the list: they neither hide nor refuse one.
    for query in ("username=bob", "timestamp_after=garbage", "ordering=value"):
        response = reader_client.get(f"{URL}/{calibration.pk}?{query}")
        assert response.status_code == 200, query
        assert response.json()["username"] == "alice"
    assert reader_client.get(f"{URL}?username=bob").json()["results"] == []
    assert reader_client.get(f"{URL}?ordering=value").status_code == 400


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_calibrations_cannot_be_changed_or_deleted_through_the_api(
    client_for,
    superuser,
    method: str,  # type: ignore[no-untyped-def]
) -> None:
    calibration = CalibrationFactory()
    response = getattr(client_for(superuser), method)(
        f"{URL}/{calibration.pk}", {"value": 2}, format="json"
    )
    assert response.status_code == 405
    calibration.refresh_from_db()
    assert calibration.value == 1.5


def test_routes_answer_with_and_without_trailing_slash_without_redirect(
    writer_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    for path in (URL, f"{URL}/", f"{URL}/{calibration.pk}", f"{URL}/{calibration.pk}/"):
        assert writer_client.get(path).status_code == 200
    created = writer_client.post(f"{URL}/", {"calibration_type": "gain", "value": 3}, format="json")
    assert created.status_code == 201


def test_list_is_newest_first_and_ordering_timestamp_is_oldest_first(
    reader_client: APIClient,
) -> None:
    old = CalibrationFactory(timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    new = CalibrationFactory(timestamp=datetime(2025, 1, 1, tzinfo=UTC))
    newest_first = [c["calibration_id"] for c in reader_client.get(URL).json()["results"]]
    assert newest_first == [str(new.pk), str(old.pk)]
    oldest_first = [
        c["calibration_id"]
        for c in reader_client.get(URL, {"ordering": "timestamp"}).json()["results"]
    ]
    assert oldest_first == [str(old.pk), str(new.pk)]


def test_unknown_ordering_is_a_400(reader_client: APIClient) -> None:
    response = reader_client.get(URL, {"ordering": "value"})
    assert response.status_code == 400
    assert "ordering" in response.json()


def test_list_filters_by_username_type_and_timestamp_bounds(reader_client: APIClient) -> None:
    pressure = CalibrationTypeFactory(name="pressure")
    t0 = datetime(2025, 4, 1, 10, tzinfo=UTC)
    a = CalibrationFactory(username="alice", timestamp=t0)
    b = CalibrationFactory(
        username="bob", timestamp=t0 + timedelta(hours=1), calibration_type=pressure
    )
    c = CalibrationFactory(
        username="alice", timestamp=t0 + timedelta(hours=2), calibration_type=pressure
    )

    def ids(**params: str) -> set[str]:
        response = reader_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return {item["calibration_id"] for item in response.json()["results"]}

    assert ids(username="alice") == {str(a.pk), str(c.pk)}
    assert ids(calibration_type="pressure") == {str(b.pk), str(c.pk)}
    assert ids(username="alice", calibration_type="pressure") == {str(c.pk)}
    assert ids(timestamp="2025-04-01T11:00:00Z") == {str(b.pk)}
    # Both bounds are inclusive.
    assert ids(timestamp_after="2025-04-01T11:00:00Z") == {str(b.pk), str(c.pk)}
    assert ids(timestamp_before="2025-04-01T11:00:00Z") == {str(a.pk), str(b.pk)}
    assert ids(timestamp_after="2025-04-01T10:00:00Z", timestamp_before="2025-04-01T10:00:00Z") == {
        str(a.pk)
    }
    assert ids(calibration_type="no-such-type") == set()


def test_a_plus_decoded_as_a_space_in_the_query_string_is_read_as_plus(
    reader_client: APIClient,
) -> None:
    calibration = CalibrationFactory(timestamp=datetime(2025, 4, 1, 8, tzinfo=UTC))
    # `?timestamp=2025-04-01T10:00:00+02:00` unencoded: the `+` arrives as a space.
    response = reader_client.get(f"{URL}?timestamp=2025-04-01T10:00:00+02:00")
    assert response.status_code == 200
    assert [c["calibration_id"] for c in response.json()["results"]] == [str(calibration.pk)]


def test_a_timestamp_out_of_the_supported_range_says_so(reader_client: APIClient) -> None:
    response = reader_client.get(URL, {"timestamp": "0001-01-01T00:00:00+05:00"})
    assert response.status_code == 400
    assert "out of the supported range" in str(response.json()["timestamp"])


@pytest.mark.parametrize(
    "params",
    [
        {"timestamp": "not-a-time"},
        {"timestamp_after": "2025-02-30T00:00:00Z"},
        {"timestamp_before": "2025-04-01"},
        {"page_size": "abc"},
        {"page_size": "0"},
        {"page_size": "-5"},
    ],
)
def test_bad_filter_values_are_400_never_ignored(
    reader_client: APIClient, params: dict[str, str]
) -> None:
    CalibrationFactory()
    response = reader_client.get(URL, params)
    assert response.status_code == 400
    assert set(params) <= set(response.json())


def test_tag_filter_finds_calibrations_carrying_the_tag_now_in_any_case(
    reader_client: APIClient,
) -> None:
    tagged = CalibrationFactory()
    was_tagged = CalibrationFactory()
    CalibrationFactory()
    baseline = TagFactory(name="baseline-2025")
    TagAssignmentFactory(calibration=tagged, tag=baseline)
    TagAssignmentFactory(calibration=was_tagged, tag=baseline, closed=True)
    results = reader_client.get(URL, {"tag": "BASELINE-2025"}).json()["results"]
    assert [c["calibration_id"] for c in results] == [str(tagged.pk)]
    assert results[0]["tags"] == ["baseline-2025"]
    assert reader_client.get(URL, {"tag": "unknown"}).json()["results"] == []


def test_cursor_pages_walk_every_calibration_once_even_with_equal_timestamps(
    reader_client: APIClient,
) -> None:
    same = datetime(2025, 4, 1, tzinfo=UTC)
    created = {str(CalibrationFactory(timestamp=same).pk) for _ in range(7)}
    seen: list[str] = []
    url: str | None = f"{URL}?page_size=3"
    while url:
        page = reader_client.get(url).json()
        assert len(page["results"]) <= 3
        seen += [c["calibration_id"] for c in page["results"]]
        url = page["next"]
    assert sorted(seen) == sorted(created)


def test_list_query_count_does_not_grow_with_page_size(
    reader_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    tag = TagFactory()
    for calibration in CalibrationFactory.create_batch(30):
        TagAssignmentFactory(calibration=calibration, tag=tag)
    # 1 token user, 2-3 its permissions, direct and through groups (the sensor-account rule),
    # 4 calibrations page with their types, 5 their tags as of now.
    with django_assert_max_num_queries(5):
        response = reader_client.get(URL, {"page_size": "30"})
    assert len(response.json()["results"]) == 30
    assert all(item["tags"] == [tag.name] for item in response.json()["results"])


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 4, 1, 10, 0, tzinfo=UTC),
        datetime(2025, 4, 1, 10, 0, 0, 1, tzinfo=UTC),
        datetime(2025, 4, 1, 12, 0, 0, 123456, tzinfo=timezone.get_fixed_timezone(120)),
    ],
)
def test_fast_representation_matches_the_declared_fields(moment: datetime) -> None:
    created = CalibrationFactory(timestamp=moment, value=-0.000123)
    TagAssignmentFactory(calibration=created, tag=TagFactory(name="b"))
    TagAssignmentFactory(calibration=created, tag=TagFactory(name="A"))
    calibration = Calibration.objects.for_api().get(pk=created.pk)
    serializer = CalibrationSerializer(calibration)
    # DRF's own field-by-field walk over the declared fields.
    generic = serializers.ModelSerializer.to_representation(serializer, calibration)
    assert serializer.data == generic
    assert json.dumps(serializer.data) == json.dumps(generic)
    assert serializer.data["tags"] == ["A", "b"]


def test_the_created_representation_equals_the_one_read_back(writer_client: APIClient) -> None:
    TagFactory(name="Baseline-2025")  # an existing tag keeps its first spelling
    response = writer_client.post(
        URL,
        {
            "calibration_type": CalibrationTypeFactory(name="gain").name,
            "value": 2.25,
            "timestamp": "2025-04-01T10:00:00.000001+02:00",
            "tags": ["zeta", "baseline-2025", "alpha", "ZETA"],
        },
        format="json",
    )
    assert response.status_code == 201
    created = response.json()
    assert created["tags"] == ["alpha", "Baseline-2025", "zeta"]
    read_back = writer_client.get(f"{URL}/{created['calibration_id']}").json()
    assert created == read_back
