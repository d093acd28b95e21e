"""Tags on a calibration and `/api/tags`: add, remove, as-of, history, archive."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tagging.models import Tag, TagAssignment
from tests.factories import (
    CalibrationFactory,
    CalibrationTypeFactory,
    TagAssignmentFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def tags_url(calibration: Calibration) -> str:
    return f"/api/calibrations/{calibration.pk}/tags"


def test_adding_a_new_tag_creates_it_and_answers_201_with_the_assignment(
    writer_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    response = writer_client.post(tags_url(calibration), {"tag": "  baseline-2025 "}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["tag"] == "baseline-2025"
    assert body["removed_at"] is None
    assert body["added_by"] == "writer"
    assert body["removed_by"] is None
    assert Tag.objects.get().name == "baseline-2025"


def test_adding_an_active_tag_again_answers_200_without_a_duplicate_row(
    writer_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    first = writer_client.post(tags_url(calibration), {"tag": "Reference"}, format="json").json()
    again = writer_client.post(tags_url(calibration), {"tag": "REFERENCE"}, format="json")
    assert again.status_code == 200
    assert again.json() == first
    assert TagAssignment.objects.count() == 1
    assert Tag.objects.get().name == "Reference"  # first spelling kept


def test_adding_several_tags_answers_the_list_and_200_when_all_were_active(
    writer_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    response = writer_client.post(tags_url(calibration), {"tags": ["a", "b", "A"]}, format="json")
    assert response.status_code == 201
    assert [item["tag"] for item in response.json()] == ["a", "b"]
    again = writer_client.post(tags_url(calibration), {"tags": ["b", "a"]}, format="json")
    assert again.status_code == 200
    assert [item["tag"] for item in again.json()] == ["b", "a"]
    assert TagAssignment.objects.count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"tag": ""},
        {"tag": "   "},
        {"tag": "a/b"},
        {"tag": "bell\x07"},
        {"tag": "x" * 101},
        {"tag": 5},
        {"tag": None},
        {"tags": []},
        {"tags": "a"},
        {"tags": ["ok", ""]},
        {"tag": "a", "tags": ["b"]},
    ],
)
def test_invalid_tag_names_are_400_and_store_nothing(
    writer_client: APIClient, body: dict[str, object]
) -> None:
    calibration = CalibrationFactory()
    response = writer_client.post(tags_url(calibration), body, format="json")
    assert response.status_code == 400
    assert isinstance(response.json(), dict)
    assert not TagAssignment.objects.exists()
    assert not Tag.objects.exists()


def test_a_name_of_exactly_100_characters_is_accepted(writer_client: APIClient) -> None:
    response = writer_client.post(tags_url(CalibrationFactory()), {"tag": "x" * 100}, format="json")
    assert response.status_code == 201


@pytest.mark.parametrize("calibration_id", [uuid.uuid4(), "not-a-uuid"])
def test_tag_routes_of_an_unknown_calibration_are_404(
    writer_client: APIClient, calibration_id: object
) -> None:
    base = f"/api/calibrations/{calibration_id}"
    assert writer_client.post(f"{base}/tags", {"tag": "a"}, format="json").status_code == 404
    assert writer_client.get(f"{base}/tags").status_code == 404
    assert writer_client.delete(f"{base}/tags/a").status_code == 404
    assert writer_client.get(f"{base}/tag-history").status_code == 404
    assert not Tag.objects.exists()


def test_removing_a_tag_closes_the_assignment_and_keeps_history(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    writer_client.post(tags_url(calibration), {"tag": "current-state"}, format="json")
    response = writer_client.delete(f"{tags_url(calibration)}/CURRENT-STATE")
    assert response.status_code == 200
    body = response.json()
    assert body["tag"] == "current-state"
    assert body["removed_at"] is not None
    assert body["removed_by"] == "writer"
    assert writer_client.get(tags_url(calibration)).json() == []
    history = writer_client.get(f"/api/calibrations/{calibration.pk}/tag-history").json()
    assert len(history) == 1
    assert history[0]["removed_at"] == body["removed_at"]


def test_removing_a_tag_that_is_not_active_is_404_saying_so(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    TagFactory(name="old")
    response = writer_client.delete(f"{tags_url(calibration)}/old")
    assert response.status_code == 404
    assert "old" in response.json()["detail"]
    assert "does not carry" in response.json()["detail"]
    never = writer_client.delete(f"{tags_url(calibration)}/never-existed")
    assert never.status_code == 404


def test_removing_a_tag_whose_name_no_tag_could_have_is_404(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    response = writer_client.delete(f"{tags_url(calibration)}/{'x' * 101}")
    assert response.status_code == 404
    assert "does not carry" in response.json()["detail"]


def test_a_tag_whose_name_no_tag_could_have_is_404(reader_client: APIClient) -> None:
    response = reader_client.get(f"/api/tags/{'x' * 101}")
    assert response.status_code == 404
    assert "not found" in response.json()["detail"]


def test_re_adding_a_removed_tag_opens_a_second_period(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    writer_client.post(tags_url(calibration), {"tag": "t"}, format="json")
    writer_client.delete(f"{tags_url(calibration)}/t")
    assert writer_client.post(tags_url(calibration), {"tag": "t"}, format="json").status_code == 201
    history = writer_client.get(f"/api/calibrations/{calibration.pk}/tag-history/").json()
    assert [h["removed_at"] is None for h in history] == [False, True]
    assert history[0]["removed_at"] <= history[1]["added_at"]


def test_tag_is_present_at_the_instant_it_was_added_and_absent_at_the_instant_it_was_removed(
    reader_client: APIClient,
) -> None:
    calibration = CalibrationFactory()
    added = datetime(2025, 3, 1, 12, 0, 0, 250000, tzinfo=UTC)
    removed = datetime(2025, 3, 10, 8, 30, 0, 1, tzinfo=UTC)
    TagAssignmentFactory(
        calibration=calibration,
        tag=TagFactory(name="baseline-2025"),
        added_at=added,
        closed=True,
        removed_at=removed,
    )
    TagAssignmentFactory(calibration=calibration, tag=TagFactory(name="Alpha"), added_at=added)

    def tags_at(instant: datetime) -> list[str]:
        response = reader_client.get(tags_url(calibration), {"timestamp": instant.isoformat()})
        assert response.status_code == 200
        return response.json()

    one_us = timedelta(microseconds=1)
    assert tags_at(added - one_us) == []
    assert tags_at(added) == ["Alpha", "baseline-2025"]
    assert tags_at(removed - one_us) == ["Alpha", "baseline-2025"]
    assert tags_at(removed) == ["Alpha"]
    assert reader_client.get(tags_url(calibration)).json() == ["Alpha"]


def test_tags_as_of_a_malformed_timestamp_is_400(reader_client: APIClient) -> None:
    response = reader_client.get(tags_url(CalibrationFactory()), {"timestamp": "last march"})
    assert response.status_code == 400
    assert "timestamp" in response.json()


def test_tag_list_is_ordered_by_name_with_active_counts(reader_client: APIClient) -> None:
    TagFactory(name="beta")
    alpha = TagFactory(name="alpha")
    TagAssignmentFactory(tag=alpha)
    TagAssignmentFactory(tag=alpha)
    TagAssignmentFactory(tag=alpha, closed=True)
    response = reader_client.get("/api/tags")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(t["name"], t["active_count"]) for t in results] == [("alpha", 2), ("beta", 0)]
    assert response.json()["next"] is None


def test_one_tag_is_found_in_any_case_and_unknown_is_404(reader_client: APIClient) -> None:
    TagFactory(name="Baseline-2025")
    response = reader_client.get("/api/tags/baseline-2025")
    assert response.status_code == 200
    assert response.json()["name"] == "Baseline-2025"
    assert reader_client.get("/api/tags/nothing").status_code == 404
    assert reader_client.get("/api/tags/v1.2").status_code == 404


T = datetime(2025, 3, 15, tzinfo=UTC)
BASELINE_CALIBRATIONS = "/api/tags/BASELINE-2025/calibrations"


@pytest.fixture
def baseline_history() -> dict[str, Calibration]:
    """`older` carried baseline-2025 at T (and `other` only later), `newer` from T on, `later`
    from just after T; `older` lost it a day after T."""
    baseline, other = TagFactory(name="baseline-2025"), TagFactory(name="other")
    older = CalibrationFactory(timestamp=datetime(2025, 1, 1, tzinfo=UTC), username="alice")
    newer = CalibrationFactory(timestamp=datetime(2025, 2, 1, tzinfo=UTC), username="bob")
    later = CalibrationFactory(timestamp=datetime(2025, 2, 2, tzinfo=UTC))
    TagAssignmentFactory(
        calibration=older,
        tag=baseline,
        added_at=T - timedelta(days=30),
        closed=True,
        removed_at=T + timedelta(days=1),
    )
    TagAssignmentFactory(calibration=older, tag=other, added_at=T + timedelta(days=2))
    TagAssignmentFactory(calibration=newer, tag=baseline, added_at=T)
    TagAssignmentFactory(calibration=later, tag=baseline, added_at=T + timedelta(seconds=1))
    return {"older": older, "newer": newer, "later": later}  # type: ignore[dict-item]


def test_a_tags_calibrations_as_of_an_instant_are_those_carrying_it_then_newest_first(
    reader_client: APIClient, baseline_history: dict[str, Calibration]
) -> None:
    then = reader_client.get(BASELINE_CALIBRATIONS, {"timestamp": "2025-03-15T00:00:00Z"})
    ids = [c["calibration_id"] for c in then.json()["results"]]
    assert ids == [str(baseline_history["newer"].pk), str(baseline_history["older"].pk)]


def test_a_tags_calibrations_as_of_an_instant_show_their_tags_as_of_then(
    reader_client: APIClient, baseline_history: dict[str, Calibration]
) -> None:
    then = reader_client.get(BASELINE_CALIBRATIONS, {"timestamp": "2025-03-15T00:00:00Z"})
    older = then.json()["results"][1]
    assert older["calibration_id"] == str(baseline_history["older"].pk)
    assert older["tags"] == ["baseline-2025"]  # `other` came later


def test_a_tags_calibrations_default_to_those_carrying_it_now(
    reader_client: APIClient, baseline_history: dict[str, Calibration]
) -> None:
    now = reader_client.get(BASELINE_CALIBRATIONS).json()["results"]
    ids = [c["calibration_id"] for c in now]
    assert ids == [str(baseline_history["later"].pk), str(baseline_history["newer"].pk)]


def test_a_tags_calibrations_as_of_an_instant_filter_by_username(
    reader_client: APIClient, baseline_history: dict[str, Calibration]
) -> None:
    filtered = reader_client.get(
        BASELINE_CALIBRATIONS, {"timestamp": "2025-03-15T00:00:00Z", "username": "alice"}
    ).json()
    assert [c["calibration_id"] for c in filtered["results"]] == [str(baseline_history["older"].pk)]


def test_the_calibrations_of_an_unknown_tag_are_404(reader_client: APIClient) -> None:
    assert reader_client.get("/api/tags/nope/calibrations").status_code == 404


def test_a_tags_calibrations_as_of_a_malformed_timestamp_are_400(
    reader_client: APIClient, baseline_history: dict[str, Calibration]
) -> None:
    response = reader_client.get(BASELINE_CALIBRATIONS, {"timestamp": "bad"})
    assert response.status_code == 400
    assert "timestamp" in response.json()


def test_a_tags_calibrations_filtered_by_type_are_only_those_of_that_type(
    reader_client: APIClient,
) -> None:
    tag = TagFactory(name="baseline-2025")
    gain = CalibrationFactory(calibration_type=CalibrationTypeFactory(name="gain"))
    offset = CalibrationFactory(calibration_type=CalibrationTypeFactory(name="offset"))
    CalibrationFactory(calibration_type=offset.calibration_type)  # of the type, not tagged
    for calibration in (gain, offset):
        TagAssignmentFactory(calibration=calibration, tag=tag)
    url = "/api/tags/baseline-2025/calibrations"
    results = reader_client.get(url, {"calibration_type": "offset"}).json()["results"]
    assert [c["calibration_id"] for c in results] == [str(offset.pk)]
    assert reader_client.get(url, {"calibration_type": "pressure"}).json()["results"] == []


def test_calibrations_by_tag_query_count_does_not_grow_with_page_size(
    reader_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    tag = TagFactory(name="busy")
    gain = CalibrationTypeFactory(name="gain")
    for calibration in CalibrationFactory.create_batch(25, calibration_type=gain):
        TagAssignmentFactory(calibration=calibration, tag=tag)
    # token user, its permissions (direct, through groups: the sensor-account rule), the tag,
    # the page of calibrations with types, their tags as of T.
    with django_assert_max_num_queries(6):
        response = reader_client.get("/api/tags/busy/calibrations", {"page_size": 25})
    assert len(response.json()["results"]) == 25


def test_tag_list_query_count_does_not_grow_with_page_size(
    reader_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for tag in TagFactory.create_batch(20):
        TagAssignmentFactory(tag=tag)
    # token user, its permissions (direct, through groups), the page of tags with their
    # active counts.
    with django_assert_max_num_queries(4):
        response = reader_client.get("/api/tags", {"page_size": 20})
    assert len(response.json()["results"]) == 20


def test_archiving_a_tag_removes_it_everywhere_now_and_keeps_history(
    writer_client: APIClient,
) -> None:
    tag = TagFactory(name="baseline-2025")
    active = TagAssignmentFactory.create_batch(
        3, tag=tag, added_at=timezone.now() - timedelta(days=1)
    )
    closed = TagAssignmentFactory(tag=tag, closed=True)
    response = writer_client.post("/api/tags/Baseline-2025/archive")
    assert response.status_code == 200
    assert response.json() == {"tag": "baseline-2025", "removed": 3}
    assert not TagAssignment.objects.active().exists()
    assert TagAssignment.objects.count() == 4
    removed_at = closed.removed_at
    closed.refresh_from_db()
    assert closed.removed_at == removed_at  # a closed period is not closed again
    assert {
        a.removed_by.username for a in TagAssignment.objects.filter(pk__in=[a.pk for a in active])
    } == {"writer"}  # type: ignore[union-attr]
    assert writer_client.get("/api/tags/baseline-2025").json()["active_count"] == 0
    again = writer_client.post("/api/tags/baseline-2025/archive/", {}, format="json")
    assert again.json() == {"tag": "baseline-2025", "removed": 0}
    assert writer_client.post("/api/tags/unknown/archive").status_code == 404


def test_tag_names_with_dots_and_spaces_work_in_paths(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    writer_client.post(tags_url(calibration), {"tag": "release 1.2"}, format="json")
    assert writer_client.get("/api/tags/release%201.2").json()["active_count"] == 1
    assert writer_client.delete(f"{tags_url(calibration)}/release%201.2").status_code == 200
