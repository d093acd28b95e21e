"""`/api/instruments`: the register (DESIGN §4.7) — what an integrator registers, changes and
reads, each instrument's status and due date as the rules say, and bad input refused."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from calibrations.api.instruments import InstrumentSerializer
from calibrations.conf import due_soon
from calibrations.models import Calibration, CalibrationType, Instrument, status_filter
from calibrations.services import calibration_correct, calibration_create
from tests.factories import CalibrationTypeFactory, InstrumentFactory, UserFactory

pytestmark = pytest.mark.django_db

REGISTRAR = ["calibrations.add_instrument", "calibrations.change_instrument"]


@pytest.fixture
def registrar_client(client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(UserFactory(username="registrar", permissions=REGISTRAR))


@pytest.fixture
def check() -> CalibrationType:
    """A type with tolerance limits: a thermometer's error against the reference, ±0.5 °C."""
    return CalibrationTypeFactory(name="thermometer-check", lower_limit=-0.5, upper_limit=0.5)


def calibrate(
    instrument: Instrument, kind: CalibrationType, *, days_ago: float, error: float = 0.1
) -> Calibration:
    return calibration_create(
        calibration_type=kind,
        value=error,
        username="alice",
        timestamp=timezone.now() - timedelta(days=days_ago),
        instrument_id=instrument.pk,
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def test_registering_an_instrument_answers_201_with_its_representation(
    registrar_client: APIClient,
) -> None:
    response = registrar_client.post(
        "/api/instruments",
        {
            "instrument_id": "TH-0042",
            "name": "Balance room thermometer",
            "kind": "sensor",
            "serial_number": "SN 771",
            "calibration_interval_days": 365,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"].endswith("/api/instruments/TH-0042")
    created = Instrument.objects.get()
    assert body == {
        "instrument_id": "TH-0042",
        "name": "Balance room thermometer",
        "kind": "sensor",
        "serial_number": "SN 771",
        "calibration_interval_days": 365,
        "retired_at": None,
        "created_at": iso(created.created_at),
        "last_calibration": None,
        "due_at": None,
        "status": "never_calibrated",
    }
    assert registrar_client.get("/api/instruments/TH-0042/").json() == body


def test_only_the_id_and_the_name_are_required(registrar_client: APIClient) -> None:
    response = registrar_client.post("/api/instruments/", {"instrument_id": "x.1", "name": "X"})
    assert response.status_code == 201
    assert (response.json()["kind"], response.json()["calibration_interval_days"]) == (
        "other",
        None,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"instrument_id": "TH-1", "name": "x", "calibration_interval_days": 0},
            "calibration_interval_days",
        ),
        (
            {"instrument_id": "TH-1", "name": "x", "calibration_interval_days": -30},
            "calibration_interval_days",
        ),
        (
            {"instrument_id": "TH-1", "name": "x", "calibration_interval_days": 36501},
            "calibration_interval_days",
        ),
        (
            {"instrument_id": "TH-1", "name": "x", "calibration_interval_days": "365"},
            "calibration_interval_days",
        ),
        (
            {"instrument_id": "TH-1", "name": "x", "calibration_interval_days": 1.5},
            "calibration_interval_days",
        ),
        (
            {"instrument_id": "TH-1", "name": "x", "calibration_interval_days": True},
            "calibration_interval_days",
        ),
        ({"instrument_id": "TH 1", "name": "x"}, "instrument_id"),
        ({"instrument_id": "", "name": "x"}, "instrument_id"),
        ({"instrument_id": "a/b", "name": "x"}, "instrument_id"),
        ({"instrument_id": "x" * 65, "name": "x"}, "instrument_id"),
        ({"instrument_id": 42, "name": "x"}, "instrument_id"),
        ({"name": "x"}, "instrument_id"),
        ({"instrument_id": "TH-1", "name": "  "}, "name"),
        ({"instrument_id": "TH-1"}, "name"),
        ({"instrument_id": "TH-1", "name": "x", "kind": "thermometer"}, "kind"),
        ({"instrument_id": "TH-1", "name": "x", "retired_at": "last week"}, "retired_at"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_registers_nothing(
    registrar_client: APIClient, body: dict[str, Any], field: str
) -> None:
    response = registrar_client.post("/api/instruments", body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Instrument.objects.exists()


def test_a_taken_id_is_a_400_keyed_by_it_and_the_first_stays(registrar_client: APIClient) -> None:
    InstrumentFactory(instrument_id="TH-1", name="First")
    response = registrar_client.post("/api/instruments", {"instrument_id": "TH-1", "name": "Two"})
    assert response.status_code == 400
    assert "already exists" in response.json()["instrument_id"][0]
    assert Instrument.objects.get().name == "First"


def test_ids_are_case_sensitive(registrar_client: APIClient) -> None:
    InstrumentFactory(instrument_id="th-1")
    assert (
        registrar_client.post(
            "/api/instruments", {"instrument_id": "TH-1", "name": "x"}
        ).status_code
        == 201
    )
    assert registrar_client.get("/api/instruments/Th-1").status_code == 404


def test_patch_changes_only_what_it_names(registrar_client: APIClient) -> None:
    InstrumentFactory(instrument_id="TH-1", name="Old", serial_number="S1")
    response = registrar_client.patch(
        "/api/instruments/TH-1",
        {"name": "New", "calibration_interval_days": 182, "retired_at": "2030-01-31T17:00:00Z"},
    )
    assert response.status_code == 200, response.content
    instrument = Instrument.objects.get()
    assert (instrument.name, instrument.serial_number, instrument.calibration_interval_days) == (
        "New",
        "S1",
        182,
    )
    assert response.json()["retired_at"] == "2030-01-31T17:00:00Z"
    # null clears: no fixed interval, back in service.
    response = registrar_client.patch(
        "/api/instruments/TH-1/", {"calibration_interval_days": None, "retired_at": None}
    )
    assert (response.json()["calibration_interval_days"], response.json()["retired_at"]) == (
        None,
        None,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"calibration_interval_days": 0}, "calibration_interval_days"),
        ({"instrument_id": "TH-2"}, "instrument_id"),
        ({"name": ""}, "name"),
        ({"kind": "gauge"}, "kind"),
    ],
)
def test_a_bad_patch_is_a_400_and_changes_nothing(
    registrar_client: APIClient, body: dict[str, Any], field: str
) -> None:
    InstrumentFactory(instrument_id="TH-1", name="Kept", calibration_interval_days=30)
    response = registrar_client.patch("/api/instruments/TH-1", body)
    assert response.status_code == 400
    assert field in response.json()
    instrument = Instrument.objects.get()
    assert (instrument.pk, instrument.name, instrument.calibration_interval_days) == (
        "TH-1",
        "Kept",
        30,
    )


def test_an_instrument_is_never_deleted_nor_replaced_through_the_api(
    registrar_client: APIClient, superuser_client: APIClient
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    for client in (registrar_client, superuser_client):
        assert client.delete("/api/instruments/TH-1").status_code == 405
        assert client.put("/api/instruments/TH-1", {"name": "x"}).status_code == 405
    assert Instrument.objects.filter(pk="TH-1").exists()


def test_reading_an_unknown_or_malformed_instrument_is_a_404(reader_client: APIClient) -> None:
    for path in (
        "/api/instruments/nope",
        "/api/instruments/a%20b",
        "/api/instruments/nope/calibrations",
    ):
        response = reader_client.get(path)
        assert response.status_code == 404, path
        assert "detail" in response.json()


# --- Status and due date (DESIGN §4.7).


def status_of(client: APIClient, instrument_id: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/api/instruments/{instrument_id}").json()
    return body


def test_due_at_is_the_newest_good_calibration_plus_the_interval(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=100)
    calibrate(instrument, check, days_ago=50)
    newest = calibrate(instrument, check, days_ago=10)
    body = status_of(reader_client, "TH-1")
    assert body["due_at"] == iso(newest.timestamp + timedelta(days=100))
    assert body["status"] == "ok"
    assert body["last_calibration"] == {
        "calibration_id": str(newest.pk),
        "timestamp": iso(newest.timestamp),
        "in_tolerance": True,
    }


def test_an_unassessed_calibration_counts_as_good_for_the_due_date(
    reader_client: APIClient,
) -> None:
    plain = CalibrationTypeFactory(name="gain")  # no limits: in_tolerance null
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=100)
    done = calibrate(instrument, plain, days_ago=10)
    body = status_of(reader_client, "TH-1")
    assert body["last_calibration"]["in_tolerance"] is None
    assert body["due_at"] == iso(done.timestamp + timedelta(days=100))


def test_out_of_tolerance_comes_first_and_the_due_date_skips_that_calibration(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=100)
    good = calibrate(instrument, check, days_ago=200)  # overdue by its own date, too
    calibrate(instrument, check, days_ago=1, error=0.9)
    body = status_of(reader_client, "TH-1")
    assert body["status"] == "out_of_tolerance"
    assert body["due_at"] == iso(good.timestamp + timedelta(days=100))
    assert body["last_calibration"]["in_tolerance"] is False


def test_a_good_calibration_after_an_out_of_tolerance_one_ends_it(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=100)
    calibrate(instrument, check, days_ago=20, error=-0.7)
    calibrate(instrument, check, days_ago=2)
    assert status_of(reader_client, "TH-1")["status"] == "ok"


@pytest.mark.parametrize(
    ("days_ago", "interval", "expected"),
    [
        (400, 365, "overdue"),
        (340, 365, "due_soon"),  # due in 25 days, within the default 30
        (300, 365, "ok"),
        (10, None, "ok"),  # no fixed interval: never due
    ],
)
def test_the_status_follows_the_due_date(
    reader_client: APIClient,
    check: CalibrationType,
    days_ago: int,
    interval: int | None,
    expected: str,
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=interval)
    calibrate(instrument, check, days_ago=days_ago)
    assert status_of(reader_client, "TH-1")["status"] == expected


def test_retired_comes_before_everything(reader_client: APIClient, check: CalibrationType) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    calibrate(instrument, check, days_ago=3, error=2.0)
    Instrument.objects.filter(pk="TH-1").update(retired_at=timezone.now() - timedelta(hours=1))
    assert status_of(reader_client, "TH-1")["status"] == "retired"


def test_a_retirement_still_ahead_leaves_the_instrument_in_service(
    reader_client: APIClient,
) -> None:
    InstrumentFactory(instrument_id="TH-1", retired_at=timezone.now() + timedelta(days=5))
    assert status_of(reader_client, "TH-1")["status"] == "never_calibrated"


def test_the_due_soon_window_is_the_setting(
    reader_client: APIClient, check: CalibrationType, settings: Any
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=365)
    calibrate(instrument, check, days_ago=340)  # due in 25 days
    settings.CALIBRATION_DUE_SOON = "P7D"
    assert status_of(reader_client, "TH-1")["status"] == "ok"
    settings.CALIBRATION_DUE_SOON = timedelta(days=60)
    assert status_of(reader_client, "TH-1")["status"] == "due_soon"


def test_ties_on_the_timestamp_go_to_the_calibration_recorded_last(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    at = timezone.now() - timedelta(days=1)
    for error in (0.1, 0.9):  # recorded one after the other, both done at `at`
        calibration_create(
            calibration_type=check, value=error, username="a", timestamp=at, instrument_id="TH-1"
        )
    assert status_of(reader_client, "TH-1")["status"] == "out_of_tolerance"
    assert instrument.pk == "TH-1"


def test_a_calibration_corrected_in_the_console_moves_the_status(
    reader_client: APIClient, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1", calibration_interval_days=365)
    found = calibrate(InstrumentFactory.build(instrument_id="TH-1"), check, days_ago=3, error=0.9)
    assert status_of(reader_client, "TH-1")["status"] == "out_of_tolerance"
    calibration_correct(calibration=found, user=None, reason="Typo: 0.09 read as 0.9.", value=0.09)
    assert status_of(reader_client, "TH-1")["status"] == "ok"


def test_a_calibration_dated_ahead_is_the_newest_as_soon_as_it_is_recorded(
    reader_client: APIClient, check: CalibrationType
) -> None:
    # DESIGN §4.7 names the newest calibration by timestamp, whatever the clock says now; the
    # status as of an instant (a room's placements at T) still counts only those done by T.
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=100)
    calibrate(instrument, check, days_ago=120)
    ahead = calibrate(instrument, check, days_ago=-2)
    body = status_of(reader_client, "TH-1")
    assert body["status"] == "ok"
    assert body["last_calibration"]["calibration_id"] == str(ahead.pk)
    assert body["due_at"] == iso(ahead.timestamp + timedelta(days=100))
    now = Instrument.objects.with_status_as_of(at=timezone.now(), due_soon=due_soon()).get()
    assert now.status == "overdue"  # type: ignore[attr-defined]


def test_a_due_date_past_the_last_representable_instant_is_none(
    reader_client: APIClient, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1", calibration_interval_days=36500)
    calibration_create(
        calibration_type=check,
        value=0.0,
        username="a",
        timestamp=datetime(1999, 1, 1, tzinfo=UTC),
        instrument_id="TH-1",
    )
    calibration_create(
        calibration_type=check,
        value=0.0,
        username="a",
        timestamp=datetime(9999, 12, 31, tzinfo=UTC),
        instrument_id="TH-1",
    )
    response = reader_client.get("/api/instruments/TH-1", {})
    assert response.status_code == 200
    # The calibration of 9999 is the newest: 100 years after it is no instant there is.
    assert response.json()["due_at"] is None
    assert response.json()["status"] == "ok"
    # As of today it is not done yet: the one of 1999 sets the due date then.
    then = Instrument.objects.with_status_as_of(at=timezone.now(), due_soon=due_soon()).get()
    assert then.due_at == datetime(2098, 12, 7, tzinfo=UTC)  # type: ignore[attr-defined]


# --- The list.


def test_the_register_lists_soonest_due_first_and_those_without_a_due_date_last(
    reader_client: APIClient, check: CalibrationType
) -> None:
    for instrument_id, days_ago in (("B", 100), ("A", 300), ("C", 10)):
        calibrate(
            InstrumentFactory(instrument_id=instrument_id, calibration_interval_days=365),
            check,
            days_ago=days_ago,
        )
    InstrumentFactory(instrument_id="D", calibration_interval_days=None)
    InstrumentFactory(instrument_id="0-never")
    first = reader_client.get("/api/instruments", {"page_size": 3}).json()
    assert [i["instrument_id"] for i in first["results"]] == ["A", "B", "C"]
    second = reader_client.get(first["next"]).json()
    assert [i["instrument_id"] for i in second["results"]] == ["0-never", "D"]
    assert second["next"] is None


def test_the_list_filters_by_kind_status_and_due_date(
    reader_client: APIClient, check: CalibrationType
) -> None:
    soon = InstrumentFactory(instrument_id="soon", kind="sensor", calibration_interval_days=365)
    calibrate(soon, check, days_ago=350)
    late = InstrumentFactory(instrument_id="late", kind="reference", calibration_interval_days=365)
    calibrate(late, check, days_ago=400)
    InstrumentFactory(instrument_id="new", kind="sensor")

    def ids(**query: str) -> list[str]:
        response = reader_client.get("/api/instruments", query)
        assert response.status_code == 200, response.content
        return [i["instrument_id"] for i in response.json()["results"]]

    assert ids(kind="sensor") == ["soon", "new"]
    assert ids(status="overdue") == ["late"]
    assert ids(status="never_calibrated") == ["new"]
    assert ids(due_before=iso(timezone.now())) == ["late"]
    assert ids(due_before=iso(timezone.now() + timedelta(days=30))) == ["late", "soon"]
    assert ids(kind="sensor", status="due_soon") == ["soon"]


@pytest.mark.parametrize(
    "query",
    [
        {"status": "late"},
        {"kind": "probe"},
        {"due_before": "soon"},
        {"page_size": "0"},
        {"cursor": "x"},
    ],
)
def test_a_bad_filter_value_is_a_400(reader_client: APIClient, query: dict[str, str]) -> None:
    response = reader_client.get("/api/instruments", query)
    assert response.status_code == 400
    assert set(query) <= set(response.json())


def test_a_page_of_the_register_is_one_query_whatever_its_size(
    reader_client: APIClient,
    check: CalibrationType,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    for i in range(30):
        instrument = InstrumentFactory(
            instrument_id=f"TH-{i:02d}", calibration_interval_days=30 + i
        )
        calibrate(instrument, check, days_ago=i, error=0.9 if i % 7 == 0 else 0.1)
    for size in (5, 30):
        # Queries: the token with its user; the user's own and group permissions (the sensor
        # rule); then the page itself, status and due date included.
        with django_assert_max_num_queries(4):
            response = reader_client.get("/api/instruments", {"page_size": size, "status": "ok"})
        assert response.status_code == 200
        assert all(i["status"] == "ok" for i in response.json()["results"])


def test_an_instruments_calibrations_are_listed_newest_first(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    older = calibrate(instrument, check, days_ago=20)
    newer = calibrate(instrument, check, days_ago=2, error=0.7)
    calibration_create(calibration_type=check, value=0.0, username="a")  # no instrument
    body = reader_client.get("/api/instruments/TH-1/calibrations").json()
    assert [c["calibration_id"] for c in body["results"]] == [str(newer.pk), str(older.pk)]
    assert body["results"][0]["instrument"] == "TH-1"
    assert body["results"][0]["in_tolerance"] is False


def test_the_instrument_representation_matches_its_declared_fields(check: CalibrationType) -> None:
    instrument = InstrumentFactory(
        instrument_id="TH-1", retired_at=datetime(2030, 1, 1, tzinfo=UTC)
    )
    calibrate(instrument, check, days_ago=2)
    annotated = Instrument.objects.with_status(now=timezone.now(), due_soon=due_soon()).get()
    serializer = InstrumentSerializer(annotated)
    walked = super(InstrumentSerializer, serializer).to_representation(annotated)
    assert serializer.data == walked


@pytest.mark.postgresql
@pytest.mark.parametrize("status", [None, "overdue", "due_soon"])
def test_a_page_of_the_register_reads_the_due_date_index_and_no_calibration(
    status: str | None,
) -> None:
    # 5,000 instruments, due one a day from a year ago, and fresh statistics: a page in due
    # order (filtered by a status or not) is a range of the index, whatever the register's size.
    now = timezone.now()
    done = Calibration.objects.create(
        calibration_type=CalibrationTypeFactory(), value=0.0, username="a", in_tolerance=True
    )
    Instrument.objects.bulk_create(
        Instrument(
            instrument_id=f"TH-{i:04d}",
            name="x",
            calibration_interval_days=365,
            newest_calibration=done,
            newest_calibration_timestamp=done.timestamp,
            newest_calibration_recorded_at=done.created_at,
            newest_calibration_in_tolerance=True,
            next_due_at=now + timedelta(days=i - 365),
        )
        for i in range(5000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calibrations_instrument")
    rows = Instrument.objects.with_status(now=now, due_soon=due_soon())
    if status is not None:
        rows = rows.filter(status_filter(status, now=now, due_soon=due_soon()))
    sql, params = rows.order_by("due_sort", "pk")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using instrument_due_idx" in plan, plan
    assert "Sort" not in plan, plan
    assert "calibrations_calibration" not in plan, plan
