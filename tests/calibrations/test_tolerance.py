"""Tolerance and instruments on calibrations (DESIGN §3, §4.2): `in_tolerance` derived from the
type's limits whenever a calibration is written and kept afterwards; `instrument` on create, in
filters, the history, the snapshot and the CSV files; bad instruments refused."""

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from calibrations.models import Calibration, CalibrationType, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create
from tests.calibrations.test_admin_csv import confirm, upload
from tests.factories import CalibrationTypeFactory, InstrumentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def check() -> CalibrationType:
    return CalibrationTypeFactory(name="thermometer-check", lower_limit=-0.5, upper_limit=0.5)


def create(kind: CalibrationType, value: float, **extra: Any) -> Calibration:
    return calibration_create(
        calibration_type=kind, value=value, username="alice", timestamp=T0, **extra
    )


@pytest.mark.parametrize(
    ("lower", "upper", "value", "expected"),
    [
        (-0.5, 0.5, 0.5, True),  # bounds are inclusive
        (-0.5, 0.5, -0.5, True),
        (-0.5, 0.5, 0.5000001, False),
        (-0.5, 0.5, -0.6, False),
        (None, 0.5, -1e9, True),  # an upper limit alone
        (None, 0.5, 0.7, False),
        (0.0, None, 1e9, True),  # a lower limit alone
        (0.0, None, -0.1, False),
        (None, None, 1e9, None),  # no limit: not assessed
    ],
)
def test_in_tolerance_is_derived_from_the_types_limits(
    writer_client: APIClient,
    lower: float | None,
    upper: float | None,
    value: float,
    expected: bool | None,
) -> None:
    CalibrationTypeFactory(name="check", lower_limit=lower, upper_limit=upper)
    response = writer_client.post(
        "/api/calibrations", {"calibration_type": "check", "value": value}
    )
    assert response.status_code == 201
    assert response.json()["in_tolerance"] is expected
    stored = Calibration.objects.get()
    assert stored.in_tolerance is expected
    assert stored.versions.get().in_tolerance is expected


def test_changing_the_limits_does_not_rewrite_past_calibrations(
    reader_client: APIClient, check: CalibrationType
) -> None:
    found = create(check, 0.4)
    CalibrationType.objects.filter(pk=check.pk).update(lower_limit=-0.3, upper_limit=0.3)
    body = reader_client.get(f"/api/calibrations/{found.pk}").json()
    assert body["in_tolerance"] is True
    check.refresh_from_db()
    assert create(check, 0.4).in_tolerance is False  # new ones are judged by the new limits


def test_a_correction_of_the_value_judges_again_and_the_version_records_it(
    reader_client: APIClient, check: CalibrationType
) -> None:
    found = create(check, 0.4)
    calibration_correct(calibration=found, user=None, reason="Misread the display.", value=0.8)
    found.refresh_from_db()
    assert found.in_tolerance is False
    history = reader_client.get(f"/api/calibrations/{found.pk}/history").json()
    assert [(v["value"], v["in_tolerance"]) for v in history] == [(0.4, True), (0.8, False)]


def test_a_correction_of_the_username_keeps_the_judgement_made_when_it_was_written(
    check: CalibrationType,
) -> None:
    found = create(check, 0.4)
    CalibrationType.objects.filter(pk=check.pk).update(upper_limit=0.3)
    calibration_correct(calibration=found, user=None, reason="Wrong name.", username="bob")
    found.refresh_from_db()
    assert found.in_tolerance is True
    assert found.versions.order_by("version").last().in_tolerance is True  # type: ignore[union-attr]


def test_a_correction_to_another_type_is_judged_by_that_types_limits(
    check: CalibrationType,
) -> None:
    plain = CalibrationTypeFactory(name="gain")
    found = create(plain, 0.9)
    assert found.in_tolerance is None
    calibration_correct(calibration=found, user=None, reason="Wrong type.", calibration_type=check)
    found.refresh_from_db()
    assert found.in_tolerance is False


def test_a_calibration_names_its_instrument(
    writer_client: APIClient, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    response = writer_client.post(
        "/api/calibrations",
        {
            "calibration_type": "thermometer-check",
            "value": 0.2,
            "instrument": "TH-1",
            "tags": ["a"],
        },
    )
    assert response.status_code == 201, response.content
    assert (response.json()["instrument"], response.json()["in_tolerance"]) == ("TH-1", True)
    stored = Calibration.objects.get()
    assert stored.instrument_id == "TH-1"
    assert stored.versions.get().instrument_id == "TH-1"
    listed = writer_client.get("/api/calibrations").json()["results"][0]
    assert (listed["instrument"], listed["tags"]) == ("TH-1", ["a"])


@pytest.mark.parametrize(
    ("instrument", "message"),
    [
        ("NOPE", "Unknown instrument"),
        ("RETIRED", "retired"),
        ("a b", "instrument id"),
        (7, "string"),
    ],
)
def test_an_unknown_or_retired_instrument_is_a_400_and_nothing_is_stored(
    writer_client: APIClient, check: CalibrationType, instrument: Any, message: str
) -> None:
    InstrumentFactory(instrument_id="RETIRED", retired_at=timezone.now() - timedelta(days=1))
    response = writer_client.post(
        "/api/calibrations",
        {
            "calibration_type": "thermometer-check",
            "value": 0.1,
            "instrument": instrument,
            "tags": ["t"],
        },
    )
    assert response.status_code == 400
    assert message in response.json()["instrument"][0]
    assert not Calibration.objects.exists()
    assert not CalibrationVersion.objects.exists()


def test_null_names_no_instrument(writer_client: APIClient, check: CalibrationType) -> None:
    response = writer_client.post(
        "/api/calibrations",
        {"calibration_type": "thermometer-check", "value": 0.1, "instrument": None},
    )
    assert response.status_code == 201
    assert response.json()["instrument"] is None


@pytest.mark.postgresql
def test_a_create_that_names_an_instrument_is_still_one_statement(
    check: CalibrationType, django_assert_num_queries: Callable[..., Any]
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    # The calibration, its version 1 and the instrument's check: one INSERT … WITH statement,
    # outside any transaction (no BEGIN or COMMIT either).
    with django_assert_num_queries(1):
        create(check, 0.1, instrument_id="TH-1")
    # The refusal says why: one more query, to tell which.
    with django_assert_num_queries(2), pytest.raises(ValidationError):
        create(check, 0.1, instrument_id="NOPE")
    assert Calibration.objects.count() == 1


def test_the_database_refuses_limits_out_of_order(check: CalibrationType) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationType.objects.filter(pk=check.pk).update(lower_limit=1.0, upper_limit=0.5)
    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationType.objects.filter(pk=check.pk).update(lower_limit=0.5, upper_limit=0.5)


@pytest.mark.postgresql
def test_the_database_refuses_a_limit_that_is_not_finite(check: CalibrationType) -> None:
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE calibrations_calibrationtype SET upper_limit = 'NaN' WHERE id = %s", [check.pk]
        )


def test_the_list_filters_by_instrument_and_by_tolerance(
    reader_client: APIClient, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="TH-2")
    good = create(check, 0.1, instrument_id="TH-1")
    bad = create(check, 0.9, instrument_id="TH-1")
    other = create(check, 0.9, instrument_id="TH-2")
    create(CalibrationTypeFactory(name="gain"), 5.0)

    def ids(**query: str) -> set[str]:
        response = reader_client.get("/api/calibrations", query)
        assert response.status_code == 200, response.content
        return {c["calibration_id"] for c in response.json()["results"]}

    assert ids(instrument="TH-1") == {str(good.pk), str(bad.pk)}
    assert ids(in_tolerance="false") == {str(bad.pk), str(other.pk)}
    assert ids(in_tolerance="true", instrument="TH-1") == {str(good.pk)}
    assert ids(instrument="th-1") == set()  # ids are case-sensitive


@pytest.mark.parametrize("value", ["yes", "1", "null", "False"])
def test_a_bad_in_tolerance_filter_is_a_400(reader_client: APIClient, value: str) -> None:
    response = reader_client.get("/api/calibrations", {"in_tolerance": value})
    assert response.status_code == 400
    assert "in_tolerance" in response.json()


def test_the_snapshot_gives_the_instrument_and_the_judgement_as_they_stood(
    reader_client: APIClient, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="TH-2")
    found = create(check, 0.9, instrument_id="TH-1")
    before = timezone.now()
    calibration_correct(
        calibration=found,
        user=None,
        reason="It was TH-2, and 0.09.",
        instrument=InstrumentFactory.build(instrument_id="TH-2"),
        value=0.09,
    )
    then = reader_client.get(
        "/api/snapshot", {"timestamp": before.isoformat().replace("+00:00", "Z")}
    )
    line = json.loads(b"".join(then.streaming_content).decode())
    assert (line["instrument"], line["in_tolerance"], line["value"]) == ("TH-1", False, 0.9)
    now = reader_client.get("/api/snapshot")
    line = json.loads(b"".join(now.streaming_content).decode())
    assert (line["instrument"], line["in_tolerance"], line["value"]) == ("TH-2", True, 0.09)
    # The CSV keeps DESIGN §4.4a's header exactly: the instrument is the JSON lines' and the
    # console export's.
    csv_now = reader_client.get("/api/snapshot", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(csv_now.streaming_content).decode())))
    assert rows[0] == [
        "calibration_id",
        "calibration_type",
        "value",
        "timestamp",
        "username",
        "tags",
    ]
    assert rows[1][2] == "0.09"


def test_the_export_has_the_instrument_column_the_import_reads(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    create(check, 0.1, instrument_id="TH-1")
    exported = b"".join(
        admin_client.get("/admin/calibrations/calibration/export/").streaming_content
    ).decode()
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0][-1] == "instrument"
    assert rows[1][-1] == "TH-1"


def import_csv(admin_client: Client, text: str) -> str:
    """Upload `text` to the import's preview and, when it offers to, confirm it."""
    status, preview = upload(admin_client, text)
    assert status == 200
    if 'name="import_file_name"' in preview:
        confirm(admin_client, preview)
    return preview


def test_the_import_stores_the_instrument_and_derives_the_judgement(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    import_csv(
        admin_client,
        "calibration_type,value,timestamp,username,instrument\n"
        "thermometer-check,0.7,2025-04-01T10:00:00Z,alice,TH-1\n"
        "thermometer-check,0.1,2025-04-02T10:00:00Z,alice,\n",
    )
    stored = {c.value: (c.instrument_id, c.in_tolerance) for c in Calibration.objects.all()}
    assert stored == {0.7: ("TH-1", False), 0.1: (None, True)}


def test_an_import_naming_an_unknown_or_retired_instrument_is_refused_whole(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="OLD", retired_at=timezone.now() - timedelta(days=1))
    page = import_csv(
        admin_client,
        "calibration_type,value,timestamp,username,instrument\n"
        "thermometer-check,0.1,2025-04-01T10:00:00Z,alice,TH-1\n"
        "thermometer-check,0.1,2025-04-01T10:00:00Z,alice,NOPE\n"
        "thermometer-check,0.1,2025-04-01T10:00:00Z,alice,OLD\n"
        "thermometer-check,0.1,2025-04-01T10:00:00Z,alice,bad id\n",
    )
    assert page.count("is not in the register, or is retired") == 2
    assert "bad id" in page
    assert not Calibration.objects.exists()
