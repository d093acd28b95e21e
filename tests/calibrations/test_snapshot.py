"""`GET /api/snapshot`: the records as they stood at an instant, as a streamed file."""

import csv
import io
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone
from rest_framework.test import APIClient

from calibrations import snapshot as exports
from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create
from tagging.models import TagAssignment
from tagging.services import tag_remove, tags_add
from tests.factories import CalibrationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

DONE = datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)


def make(
    value: float = 1.5, username: str = "alice", type_name: str = "gain", **kw: Any
) -> Calibration:
    return calibration_create(
        calibration_type=CalibrationTypeFactory(name=type_name),
        value=value,
        username=username,
        timestamp=kw.pop("timestamp", DONE),
        **kw,
    )


def body(response: Any) -> str:
    assert isinstance(response, StreamingHttpResponse), response.content
    return b"".join(response.streaming_content).decode()


def lines(response: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in body(response).splitlines()]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_a_snapshot_shows_each_calibration_as_a_jsonl_line_with_its_tags(
    reader_client: APIClient,
) -> None:
    calibration = make()
    tags_add(calibration=calibration, names=["Zeta", "alpha"], user=None)
    response = reader_client.get("/api/snapshot")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    stamp = response["X-Snapshot-Timestamp"]
    assert response["Content-Disposition"] == f'attachment; filename="snapshot-{stamp}.jsonl"'
    assert lines(response) == [
        {
            "calibration_id": str(calibration.pk),
            "calibration_type": "gain",
            "value": 1.5,
            "timestamp": "2025-04-01T10:00:00.123456Z",
            "username": "alice",
            "tags": ["alpha", "Zeta"],
            "created_at": iso(calibration.created_at),
            "instrument": None,
            "in_tolerance": None,
        }
    ]


def test_a_calibration_created_after_the_instant_is_not_in_the_snapshot(
    reader_client: APIClient,
) -> None:
    calibration = make()
    created = calibration.created_at
    before = reader_client.get(
        "/api/snapshot", {"timestamp": iso(created - timedelta(microseconds=1))}
    )
    assert lines(before) == []
    at = reader_client.get("/api/snapshot", {"timestamp": iso(created)})
    assert [row["calibration_id"] for row in lines(at)] == [str(calibration.pk)]
    assert at["X-Snapshot-Timestamp"] == iso(created)


def test_at_changed_at_the_corrected_value_is_in_force_and_just_before_the_old_one(
    reader_client: APIClient,
) -> None:
    calibration = make()
    calibration_correct(
        calibration=calibration, user=None, reason="Misread the gauge.", value=2.5, username="bob"
    )
    changed_at = CalibrationVersion.objects.get(calibration=calibration, version=2).changed_at
    before = lines(
        reader_client.get(
            "/api/snapshot", {"timestamp": iso(changed_at - timedelta(microseconds=1))}
        )
    )
    at = lines(reader_client.get("/api/snapshot", {"timestamp": iso(changed_at)}))
    assert [(r["value"], r["username"]) for r in before] == [(1.5, "alice")]
    assert [(r["value"], r["username"]) for r in at] == [(2.5, "bob")]
    # Filters apply to the values of T.
    assert (
        lines(
            reader_client.get("/api/snapshot", {"timestamp": iso(changed_at), "username": "alice"})
        )
        == []
    )
    assert (
        len(
            lines(
                reader_client.get(
                    "/api/snapshot",
                    {"timestamp": iso(changed_at - timedelta(microseconds=1)), "username": "alice"},
                )
            )
        )
        == 1
    )


def test_at_added_at_the_tag_is_carried_and_at_removed_at_it_is_not(
    reader_client: APIClient,
) -> None:
    calibration = make()
    tags_add(calibration=calibration, names=["reference"], user=None)
    tag_remove(calibration=calibration, name="reference", user=None)
    period = TagAssignment.objects.get(calibration=calibration)
    assert period.removed_at is not None

    def tags_at(instant: datetime, **query: str) -> list[list[str]]:
        response = reader_client.get("/api/snapshot", {"timestamp": iso(instant), **query})
        return [row["tags"] for row in lines(response)]

    assert tags_at(period.added_at - timedelta(microseconds=1)) == [[]]
    assert tags_at(period.added_at) == [["reference"]]
    assert tags_at(period.removed_at - timedelta(microseconds=1)) == [["reference"]]
    assert tags_at(period.removed_at) == [[]]
    # The tag filter follows the same rule.
    assert tags_at(period.added_at, tag="REFERENCE") == [["reference"]]
    assert tags_at(period.removed_at, tag="reference") == []


def test_rows_are_ordered_by_the_timestamp_of_t_then_id_and_filtered(
    reader_client: APIClient,
) -> None:
    late = make(timestamp=DONE + timedelta(days=2), type_name="offset", value=0.1)
    early = make(timestamp=DONE, username="bob")
    same = [make(timestamp=DONE + timedelta(days=1)) for _ in range(3)]
    # A correction moves `early` last: ordering is by the timestamp as of T.
    calibration_correct(
        calibration=early, user=None, reason="Wrong date.", timestamp=DONE + timedelta(days=3)
    )
    rows = lines(reader_client.get("/api/snapshot"))
    expected = [str(c.pk) for c in sorted(same, key=lambda c: str(c.pk))] + [
        str(late.pk),
        str(early.pk),
    ]
    assert [row["calibration_id"] for row in rows] == expected
    assert [
        r["calibration_id"]
        for r in lines(reader_client.get("/api/snapshot", {"calibration_type": "offset"}))
    ] == [str(late.pk)]
    assert [
        r["calibration_id"] for r in lines(reader_client.get("/api/snapshot", {"username": "bob"}))
    ] == [str(early.pk)]


def test_csv_is_chosen_by_the_format_parameter_whatever_the_accept_header(
    reader_client: APIClient,
) -> None:
    calibration = make(value=0.1)
    tags_add(calibration=calibration, names=["b", "A"], user=None)
    response = reader_client.get(
        "/api/snapshot/",
        {"format": "csv", "timestamp": "2999-01-01T00:00:00Z"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["X-Snapshot-Timestamp"] == "2999-01-01T00:00:00Z"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="snapshot-2999-01-01T00:00:00Z.csv"'
    )
    rows = list(csv.reader(io.StringIO(body(response))))
    assert rows == [
        [
            "calibration_id",
            "calibration_type",
            "value",
            "timestamp",
            "username",
            "tags",
        ],
        [str(calibration.pk), "gain", "0.1", "2025-04-01T10:00:00.123456Z", "alice", "A|b"],
    ]


def test_the_accept_header_does_not_turn_the_default_into_json(reader_client: APIClient) -> None:
    make()
    response = reader_client.get("/api/snapshot", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"


def test_an_unknown_tag_gives_an_empty_file(reader_client: APIClient) -> None:
    make()
    response = reader_client.get("/api/snapshot", {"tag": "never-existed", "format": "csv"})
    assert response.status_code == 200
    assert body(response) == "calibration_id,calibration_type,value,timestamp,username,tags\n"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"format": "xml"}, "format"),
        ({"format": "json"}, "format"),
        ({"timestamp": "yesterday"}, "timestamp"),
        ({"timestamp": "2025-04-01"}, "timestamp"),
        ({"tag": "a/b"}, "tag"),
    ],
)
def test_bad_parameters_are_a_400_in_json(
    reader_client: APIClient, query: dict[str, str], field: str
) -> None:
    response = reader_client.get("/api/snapshot", query, HTTP_ACCEPT="text/csv")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert field in response.json()


def test_anonymous_is_401_and_a_sensor_account_403_in_json(
    api_client: APIClient, client_for: Callable[[User], APIClient]
) -> None:
    anonymous = api_client.get("/api/snapshot", {"format": "csv"})
    assert anonymous.status_code == 401
    assert "detail" in anonymous.json()
    sensor = UserFactory(username="sensor-1", permissions=["measurements.add_measurement"])
    refused = client_for(sensor).get("/api/snapshot", {"format": "csv"})
    assert refused.status_code == 403
    assert "sensor account" in refused.json()["detail"]


def test_the_tag_calibrations_route_keeps_current_values_with_the_tags_of_t(
    reader_client: APIClient,
) -> None:
    calibration = make()
    tags_add(calibration=calibration, names=["reference"], user=None)
    before = timezone.now()
    calibration_correct(calibration=calibration, user=None, reason="Typo.", value=9.0)
    tagged = reader_client.get("/api/tags/reference/calibrations", {"timestamp": iso(before)})
    assert [row["value"] for row in tagged.json()["results"]] == [9.0]
    snapshot = lines(
        reader_client.get("/api/snapshot", {"timestamp": iso(before), "tag": "reference"})
    )
    assert [row["value"] for row in snapshot] == [1.5]


def test_a_tag_snapshot_is_the_full_snapshots_rows_carrying_the_tag_in_its_order(
    reader_client: APIClient,
) -> None:
    # The tag's calibrations are read in two parts, merged: those corrected since T (their
    # version of T) and those not (their values now). Ties, a whole second beside a fraction of
    # it, corrections before and after T, and filters on the values of T, against the full
    # snapshot, which reads every version in one query.
    whole = DONE.replace(microsecond=0)
    tied = [make(timestamp=whole + timedelta(seconds=1)) for _ in range(3)]
    second = make(timestamp=whole)
    fraction = make(timestamp=whole + timedelta(microseconds=500_000), username="carol")
    moved = make(timestamp=whole + timedelta(seconds=1))
    renamed = make(timestamp=whole + timedelta(seconds=2), value=4.0)
    just_after = make(timestamp=whole + timedelta(seconds=2, microseconds=1))
    corrected_before = make(timestamp=whole + timedelta(days=1))
    untagged = make(timestamp=whole + timedelta(seconds=1))
    carriers = [*tied, second, fraction, moved, renamed, just_after, corrected_before]
    for calibration in carriers:
        tags_add(calibration=calibration, names=["batch", "other"], user=None)
    tags_add(calibration=untagged, names=["other"], user=None)
    calibration_correct(
        calibration=corrected_before, user=None, reason="Unit slip.", value=7.0, username="dave"
    )
    at = timezone.now()
    # After T: `moved` goes last now and `renamed` changes hands; neither shows in T's file.
    calibration_correct(
        calibration=moved, user=None, reason="Wrong day.", timestamp=whole + timedelta(days=9)
    )
    calibration_correct(
        calibration=renamed, user=None, reason="Wrong name.", username="erin", value=5.0
    )
    created_later = make(timestamp=whole)
    tags_add(calibration=created_later, names=["batch"], user=None)

    def snapshot(**query: str) -> list[dict[str, Any]]:
        return lines(reader_client.get("/api/snapshot", {"timestamp": iso(at), **query}))

    tagged = snapshot(tag="BATCH")
    expected_order = [
        second,
        fraction,
        *sorted([*tied, moved], key=lambda c: str(c.pk)),
        renamed,
        just_after,
        corrected_before,
    ]
    assert [row["calibration_id"] for row in tagged] == [str(c.pk) for c in expected_order]
    assert [row for row in snapshot() if "batch" in row["tags"]] == tagged
    as_of_t = {row["calibration_id"]: row for row in tagged}
    assert as_of_t[str(moved.pk)]["timestamp"] == iso(whole + timedelta(seconds=1))
    assert (as_of_t[str(renamed.pk)]["username"], as_of_t[str(renamed.pk)]["value"]) == (
        "alice",
        4.0,
    )
    assert as_of_t[str(corrected_before.pk)]["value"] == 7.0
    assert as_of_t[str(fraction.pk)]["timestamp"] == iso(whole + timedelta(microseconds=500_000))
    # Filters read the values of T in both parts.
    assert [row["calibration_id"] for row in snapshot(tag="batch", username="alice")] == [
        row["calibration_id"] for row in tagged if row["username"] == "alice"
    ]
    assert str(renamed.pk) in [r["calibration_id"] for r in snapshot(tag="batch", username="alice")]
    assert snapshot(tag="batch", username="erin") == []
    assert [r["calibration_id"] for r in snapshot(tag="batch", username="dave")] == [
        str(corrected_before.pk)
    ]
    assert [r["calibration_id"] for r in snapshot(tag="batch", calibration_type="offset")] == []


def test_a_file_of_many_blocks_comes_whole_and_in_order(
    reader_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks of two rows: on PostgreSQL a thread fetches the next blocks while this one writes.
    monkeypatch.setattr(exports, "CHUNK", 2)
    made = [make(timestamp=DONE + timedelta(seconds=n % 3)) for n in range(9)]
    expected = [str(c.pk) for c in sorted(made, key=lambda c: (c.timestamp, str(c.pk)))]
    assert [row["calibration_id"] for row in lines(reader_client.get("/api/snapshot"))] == expected


@pytest.mark.django_db(transaction=True)
def test_a_client_gone_mid_file_leaves_no_reader_and_a_usable_connection(
    reader_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks of two rows and thirty rows: the reader has more blocks than it may hold ahead.
    monkeypatch.setattr(exports, "CHUNK", 2)
    for n in range(30):
        make(timestamp=DONE + timedelta(seconds=n))
    response = reader_client.get("/api/snapshot")
    assert isinstance(response, StreamingHttpResponse)
    content = iter(response.streaming_content)
    assert next(content).count(b"\n") == 2
    response.close()  # what the server does when the client hangs up

    assert not [t for t in threading.enumerate() if t.name == "snapshot-read-ahead"]
    assert not connection.in_atomic_block
    assert Calibration.objects.count() == 30


def test_the_read_ahead_stops_when_closed_and_hands_its_errors_to_the_reader() -> None:
    # The reader thread of a streamed file (PostgreSQL): closed with blocks still to fetch, it
    # is gone when close() returns, so the transaction can end with nobody on its connection.
    ahead = exports.ReadAhead(iter(range(10 * exports.CHUNK)))
    rows = iter(ahead)
    assert next(rows) == 0
    ahead.close()
    assert not [t for t in threading.enumerate() if t.name == "snapshot-read-ahead"]

    def failing() -> Iterator[int]:
        yield 1
        raise ValueError("the database went away")

    ahead = exports.ReadAhead(failing())
    with pytest.raises(ValueError, match="went away"):
        list(ahead)
    ahead.close()
