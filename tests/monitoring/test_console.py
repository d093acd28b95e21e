"""The console's instrument pages (DESIGN §5): the index opens with what needs a person, the
register with status colours and filters, an instrument's page with its calibrations and
placements, placements through the services, an out-of-tolerance calibration's impact with
links to the rooms' window, and readings of instruments overdue or out of tolerance marked."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calibrations.models import (
    Calibration,
    CalibrationType,
    CalibrationVersion,
    Instrument,
    InstrumentStatus,
)
from calibrations.services import calibration_create
from monitoring.models import Placement
from monitoring.services import placement_remove
from tests.factories import (
    CalibrationTypeFactory,
    InstrumentFactory,
    MeasurementFactory,
    PlacementFactory,
    RoomFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INSTRUMENTS = "/admin/calibrations/instrument/"
PLACEMENTS = "/admin/monitoring/placement/"


@pytest.fixture
def check() -> CalibrationType:
    return CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)


def calibrate(
    instrument_id: str, kind: CalibrationType, days_ago: float, error: float = 0.1
) -> Calibration:
    return calibration_create(
        calibration_type=kind,
        value=error,
        username="alice",
        timestamp=timezone.now() - timedelta(days=days_ago),
        instrument_id=instrument_id,
    )


@pytest.fixture
def register(check: CalibrationType) -> dict[str, Calibration]:
    """TH-LATE overdue, TH-BAD out of tolerance (placed in lab-1 a month ago), TH-OK fine."""
    InstrumentFactory(instrument_id="TH-LATE", name="Late one", calibration_interval_days=30)
    InstrumentFactory(instrument_id="TH-BAD", name="Bad one", kind="reference")
    InstrumentFactory(instrument_id="TH-OK", name="Fine one")
    calibrate("TH-LATE", check, 45)
    calibrate("TH-BAD", check, 200)
    found = calibrate("TH-BAD", check, 2, error=0.9)
    calibrate("TH-OK", check, 10)
    lab = RoomFactory(room_id="lab-1")
    PlacementFactory(
        instrument=Instrument.objects.get(pk="TH-BAD"),
        room=lab,
        placed_at=timezone.now() - timedelta(days=30),
    )
    for hours in range(1, 80, 3):
        MeasurementFactory(room=lab, timestamp=timezone.now() - timedelta(hours=hours))
    return {"found": found}


def queries(client: Client, url: str, params: dict[str, str] | None = None) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, url
    return len(captured), response.content.decode()


def test_the_index_opens_with_the_instruments_that_need_a_person(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    page = admin_client.get("/admin/").content.decode()
    panel = re.search(
        r'<div class="module attention" id="attention-instruments">(.*?)</div>', page, re.S
    )
    assert panel, "no attention panel on the index"
    rows = re.findall(r'<tr class="attention-(\w+)">.*?>(TH-[A-Z]+)</a>', panel[1], re.S)
    # Soonest first: TH-LATE was due 15 days ago, TH-BAD was found out of tolerance 2 days ago.
    assert rows == [("overdue", "TH-LATE"), ("out_of_tolerance", "TH-BAD")]
    assert "instrument-status-out_of_tolerance" in panel[1]
    assert page.index('id="needs-attention"') < page.index('id="content-main"') + 200
    assert f"/admin/calibrations/calibration/{register['found'].pk}/change/" in panel[1]


def test_the_index_says_when_nothing_needs_a_person(admin_client: Client) -> None:
    page = admin_client.get("/admin/").content.decode()
    assert "None: every instrument in service is within its interval" in page


def test_the_index_shows_the_panel_only_to_those_who_may_see_instruments(
    client: Client, register: dict[str, Calibration]
) -> None:
    staff = UserFactory(
        username="staff", is_staff=True, permissions=["calibrations.view_calibration"]
    )
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert "attention-instruments" not in page
    assert "TH-LATE" not in page


def test_the_index_is_a_fixed_number_of_queries(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="A", calibration_interval_days=1)
    calibrate("A", check, 5)
    few, _ = queries(admin_client, "/admin/")
    for i in range(20):
        InstrumentFactory(instrument_id=f"B{i}", calibration_interval_days=1)
        calibrate(f"B{i}", check, 5)
    many, page = queries(admin_client, "/admin/")
    assert many == few
    assert "All of them in the register" in page


def test_the_register_shows_status_and_due_date_and_filters_them(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    page = admin_client.get(INSTRUMENTS).content.decode()
    ids = re.findall(r'<th class="field-instrument_id"><a href="[^"]+">([^<]+)</a>', page)
    # Soonest due first: TH-LATE 15 days ago, TH-BAD (good 200 days ago) in 165, TH-OK in 355.
    assert ids == ["TH-LATE", "TH-BAD", "TH-OK"]
    assert '<span class="instrument-status instrument-status-overdue">Overdue</span>' in page
    assert '<span class="verdict-false">out of tolerance</span>' in page
    overdue = admin_client.get(INSTRUMENTS, {"status": "overdue"}).content.decode()
    assert re.findall(r'field-instrument_id"><a href="[^"]+">([^<]+)</a>', overdue) == ["TH-LATE"]
    references = admin_client.get(INSTRUMENTS, {"kind__exact": "reference"}).content.decode()
    assert re.findall(r'field-instrument_id"><a href="[^"]+">([^<]+)</a>', references) == ["TH-BAD"]
    searched = admin_client.get(INSTRUMENTS, {"q": "fine"}).content.decode()
    assert re.findall(r'field-instrument_id"><a href="[^"]+">([^<]+)</a>', searched) == ["TH-OK"]


def test_the_registers_status_filter_lists_what_the_api_lists_for_every_status(
    admin_client: Client, register: dict[str, Calibration], check: CalibrationType
) -> None:
    # One instrument in every status, so that each filter has something to find and to leave.
    InstrumentFactory(instrument_id="TH-SOON", calibration_interval_days=30)
    calibrate("TH-SOON", check, 20)
    InstrumentFactory(instrument_id="TH-NEW")
    InstrumentFactory(instrument_id="TH-GONE", retired_at=timezone.now() - timedelta(days=1))
    found = set()
    for status in InstrumentStatus.values:
        page = admin_client.get(INSTRUMENTS, {"status": status}).content.decode()
        console = re.findall(r'field-instrument_id"><a href="[^"]+">([^<]+)</a>', page)
        api = admin_client.get("/api/instruments", {"status": status}).json()["results"]
        assert sorted(console) == sorted(row["instrument_id"] for row in api), status
        assert console, status
        found.update(console)
    assert len(found) == Instrument.objects.count()


def test_the_register_is_a_fixed_number_of_queries(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="A")
    calibrate("A", check, 5)
    few, _ = queries(admin_client, INSTRUMENTS, {"status": "ok"})
    for i in range(25):
        InstrumentFactory(instrument_id=f"B{i:02d}")
        calibrate(f"B{i:02d}", check, 5 + i)
    many, page = queries(admin_client, INSTRUMENTS, {"status": "ok"})
    assert many == few <= 8
    assert page.count("instrument-status-ok") >= 26


def test_an_instruments_page_shows_its_standing_calibrations_and_placements(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    page = admin_client.get(f"{INSTRUMENTS}TH-BAD/change/").content.decode()
    assert "instrument-status-out_of_tolerance" in page
    table = re.search(r'<table id="instrument-calibrations">(.*?)</table>', page, re.S)
    assert table
    assert table[1].count("<tr") == 3  # a header and its two calibrations
    assert "out of tolerance" in table[1]
    assert "/admin/calibrations/calibration/?instrument=TH-BAD" in page
    assert "Placements (where its readings came from)" in page
    assert "lab-1" in page


def test_an_instrument_is_registered_and_changed_in_the_console_through_the_services(
    admin_client: Client,
) -> None:
    response = admin_client.post(
        f"{INSTRUMENTS}add/",
        {
            "instrument_id": "TH-9",
            "name": "Ninth",
            "kind": "sensor",
            "serial_number": "",
            "calibration_interval_days": "90",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Instrument.objects.get().calibration_interval_days == 90
    response = admin_client.post(
        f"{INSTRUMENTS}TH-9/change/",
        {
            "name": "Ninth, renamed",
            "kind": "other",
            "serial_number": "S9",
            "calibration_interval_days": "",
            "placements-TOTAL_FORMS": "0",
            "placements-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    instrument = Instrument.objects.get()
    assert (instrument.name, instrument.kind, instrument.calibration_interval_days) == (
        "Ninth, renamed",
        "other",
        None,
    )


def test_a_bad_interval_in_the_console_is_refused_on_the_form(admin_client: Client) -> None:
    response = admin_client.post(
        f"{INSTRUMENTS}add/",
        {
            "instrument_id": "TH-9",
            "name": "Ninth",
            "kind": "sensor",
            "calibration_interval_days": "0",
        },
    )
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Instrument.objects.exists()


def test_deleting_a_referenced_instrument_is_refused_in_words(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    page = admin_client.get(f"{INSTRUMENTS}TH-BAD/delete/").content.decode()
    assert "calibrations or placements name it" in page
    assert "Retired at" in page
    response = admin_client.post(f"{INSTRUMENTS}TH-BAD/delete/", {"post": "yes"})
    assert response.status_code in (200, 403)
    assert Instrument.objects.filter(pk="TH-BAD").exists()
    # One nothing names may go.
    InstrumentFactory(instrument_id="TYPO")
    assert admin_client.post(f"{INSTRUMENTS}TYPO/delete/", {"post": "yes"}).status_code == 302
    assert not Instrument.objects.filter(pk="TYPO").exists()


def test_a_types_page_edits_its_limits_and_says_they_do_not_rewrite_the_past(
    admin_client: Client, check: CalibrationType
) -> None:
    url = f"/admin/calibrations/calibrationtype/{check.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "does not rewrite past calibrations" in page
    bad = admin_client.post(
        url,
        {"name": "check", "unit": "", "description": "", "lower_limit": "1", "upper_limit": "0"},
    )
    assert bad.status_code == 200
    assert "lower limit must be below the upper limit" in bad.content.decode()
    good = admin_client.post(
        url,
        {
            "name": "check",
            "unit": "°C",
            "description": "",
            "lower_limit": "-0.3",
            "upper_limit": "",
        },
    )
    assert good.status_code == 302
    check.refresh_from_db()
    assert (check.lower_limit, check.upper_limit) == (-0.3, None)


def test_a_calibration_recorded_in_the_console_names_an_instrument_in_service(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="OLD", retired_at=timezone.now() - timedelta(days=1))
    form = {
        "calibration_type": str(check.pk),
        "value": "0.7",
        "timestamp_0": "2025-04-01",
        "timestamp_1": "10:00:00",
        "username": "alice",
        "add_tags": "",
    }
    refused = admin_client.post(
        "/admin/calibrations/calibration/add/", {**form, "instrument": "OLD"}
    )
    assert refused.status_code == 200
    assert "is retired" in refused.content.decode()
    assert not Calibration.objects.exists()
    assert (
        admin_client.post(
            "/admin/calibrations/calibration/add/", {**form, "instrument": "TH-1"}
        ).status_code
        == 302
    )
    stored = Calibration.objects.get()
    assert (stored.instrument_id, stored.in_tolerance) == ("TH-1", False)


def test_correcting_the_instrument_is_a_version_like_any_correction(
    admin_client: Client, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="TH-2")
    found = calibrate("TH-1", check, 3)
    url = f"/admin/calibrations/calibration/{found.pk}/change/"
    stamp = found.timestamp.astimezone(UTC)
    form = {
        "calibration_type": str(check.pk),
        "value": "0.1",
        "timestamp_0": stamp.strftime("%Y-%m-%d"),
        "timestamp_1": stamp.strftime("%H:%M:%S.%f"),
        "username": "alice",
        "instrument": "TH-2",
        "change_reason": "It was the other thermometer.",
        "add_tags": "",
        "tag_assignments-TOTAL_FORMS": "0",
        "tag_assignments-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Calibration.objects.get().instrument_id == "TH-2"
    latest = CalibrationVersion.objects.filter(calibration=found).order_by("version").last()
    assert latest is not None
    assert latest.instrument_id == "TH-2"
    assert "instrument: TH-1 → TH-2" in admin_client.get(url).content.decode()


def test_an_out_of_tolerance_calibrations_page_shows_its_impact(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    found = register["found"]
    page = admin_client.get(f"/admin/calibrations/calibration/{found.pk}/change/").content.decode()
    assert "Impact of this out-of-tolerance calibration" in page
    panel = re.search(r'<div id="impact-panel">(.*?)</div>', page, re.S)
    assert panel
    assert f'href="/admin/measurements/room/lab-1/change/?impact={found.pk}"' in panel[1]
    # lab-1 has a reading every 3 hours; those older than the calibration 2 days ago: 11.
    assert 'id="impact-readings">11<' in panel[1]


def test_a_calibration_in_tolerance_has_no_impact_panel(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    good = Calibration.objects.filter(in_tolerance=True).first()
    assert good is not None
    page = admin_client.get(f"/admin/calibrations/calibration/{good.pk}/change/").content.decode()
    assert "impact-panel" not in page


def test_the_room_page_highlights_the_impact_window(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    found = register["found"]
    page = admin_client.get(
        f"/admin/measurements/room/lab-1/change/?impact={found.pk}"
    ).content.decode()
    assert 'class="chart-mark chart-mark-impact"' in page
    assert "the impact window of calibration" in page
    assert "Highlighted: what TH-BAD measured here" in page
    # A month on the chart, with dates a person can read: about ten, not one per day.
    assert 3 <= page.count('class="x-label"') <= 11


@pytest.mark.parametrize("impact", ["nope", "9b2f1c1e-0000-4000-8000-000000000000"])
def test_a_room_page_with_a_bad_impact_link_says_so_and_shows_the_usual_chart(
    admin_client: Client, register: dict[str, Calibration], impact: str
) -> None:
    page = admin_client.get(
        f"/admin/measurements/room/lab-1/change/?impact={impact}"
    ).content.decode()
    assert "No impact window to show" in page
    assert '<svg class="temperature-chart"' in page
    assert "chart-mark-impact" not in page


def test_readings_of_an_instrument_out_of_tolerance_are_marked_on_the_rooms_chart(
    admin_client: Client, register: dict[str, Calibration]
) -> None:
    page = admin_client.get("/admin/measurements/room/lab-1/change/").content.decode()
    assert 'class="chart-mark chart-mark-out_of_tolerance"' in page
    assert "Readings of the unnamed sensor from TH-BAD, out of tolerance" in page
    assert "Outlined bands on the chart" in page


def test_readings_of_an_overdue_instrument_are_marked_in_the_readings_list(
    admin_client: Client, check: CalibrationType
) -> None:
    lab = RoomFactory(room_id="lab-2")
    InstrumentFactory(instrument_id="TH-LATE", calibration_interval_days=10)
    calibrate("TH-LATE", check, 12)  # due 2 days ago
    PlacementFactory(
        instrument=Instrument.objects.get(), room=lab, placed_at=timezone.now() - timedelta(days=20)
    )
    MeasurementFactory(room=lab, timestamp=timezone.now() - timedelta(days=1))  # overdue by then
    MeasurementFactory(room=lab, timestamp=timezone.now() - timedelta(days=5))  # not yet
    page = admin_client.get(
        "/admin/measurements/measurement/", {"room__exact": "lab-2"}
    ).content.decode()
    cells = re.findall(r'<td class="field-instrument_column">(.*?)</td>', page, re.S)
    assert len(cells) == 2
    assert "instrument-status-overdue" in cells[0]
    assert "TH-LATE" in cells[1]
    assert "instrument-status" not in cells[1]


def test_the_readings_list_stays_a_fixed_number_of_queries_with_instruments(
    admin_client: Client, check: CalibrationType
) -> None:
    lab = RoomFactory(room_id="lab-2")
    InstrumentFactory(instrument_id="TH-1", calibration_interval_days=10)
    calibrate("TH-1", check, 12)
    PlacementFactory(
        instrument=Instrument.objects.get(), room=lab, placed_at=timezone.now() - timedelta(days=20)
    )
    MeasurementFactory(room=lab, timestamp=timezone.now() - timedelta(hours=1))
    few, _ = queries(admin_client, "/admin/measurements/measurement/", {"room__exact": "lab-2"})
    for hours in range(2, 60):
        MeasurementFactory(room=lab, timestamp=timezone.now() - timedelta(hours=hours))
    many, _ = queries(admin_client, "/admin/measurements/measurement/", {"room__exact": "lab-2"})
    assert many == few <= 10


def test_placements_are_made_and_ended_in_the_console_through_the_services(
    admin_client: Client,
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    InstrumentFactory(instrument_id="TH-2")
    RoomFactory(room_id="lab-1")
    form = {
        "instrument": "TH-1",
        "room": "lab-1",
        "sensor": "",
        "placed_at_0": "2025-04-01",
        "placed_at_1": "09:00:00",
    }
    assert admin_client.post(f"{PLACEMENTS}add/", form).status_code == 302
    placement = Placement.objects.get()
    # The same sensor again, by another instrument: refused on the form, naming the one in the way.
    clash = admin_client.post(f"{PLACEMENTS}add/", {**form, "instrument": "TH-2"})
    assert clash.status_code == 200
    assert f"(placement {placement.pk})" in clash.content.decode()
    assert Placement.objects.count() == 1
    ended = admin_client.post(
        f"{PLACEMENTS}{placement.pk}/change/",
        {"removed_at_0": "2025-04-10", "removed_at_1": "09:00:00"},
    )
    assert ended.status_code == 302
    placement.refresh_from_db()
    assert placement.removed_at == datetime(2025, 4, 10, 9, 0, tzinfo=UTC)
    # Ended, it is history: nothing on it can change, and it cannot be deleted.
    page = admin_client.get(f"{PLACEMENTS}{placement.pk}/change/").content.decode()
    assert 'name="removed_at_0"' not in page
    assert (
        admin_client.post(f"{PLACEMENTS}{placement.pk}/delete/", {"post": "yes"}).status_code == 403
    )


def test_a_placement_ending_before_it_began_is_refused_on_the_form(admin_client: Client) -> None:
    placement = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=RoomFactory(room_id="lab-1")
    )
    response = admin_client.post(
        f"{PLACEMENTS}{placement.pk}/change/",
        {"removed_at_0": "2024-01-01", "removed_at_1": "00:00:00"},
    )
    assert response.status_code == 200
    assert "cannot end before it began" in response.content.decode()
    placement.refresh_from_db()
    assert placement.removed_at is None


def test_the_placements_list_is_a_fixed_number_of_queries(
    admin_client: Client, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    room = RoomFactory(room_id="lab-1")
    for i in range(15):
        placement = PlacementFactory(
            instrument=InstrumentFactory(instrument_id=f"TH-{i}"),
            room=room,
            placed_at=datetime(2025, 1, 1, tzinfo=UTC) + timedelta(days=2 * i),
        )
        placement_remove(placement=placement, removed_at=placement.placed_at + timedelta(days=1))
    with django_assert_max_num_queries(8):
        assert admin_client.get(PLACEMENTS).status_code == 200
