"""Instruments in the console, in a real browser at 1280 × 800: the home page says what needs a
person, the register and an instrument's page fit the screen, an out-of-tolerance calibration's
impact leads to the room's chart over that window, and flagged readings are marked."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from calibrations.models import Calibration, Instrument
from calibrations.services import calibration_create
from measurements.services import room_update
from monitoring.services import placement_remove
from tests.e2e.conftest import ARTIFACTS
from tests.e2e.test_consoles_browser import SIDEWAYS
from tests.factories import (
    CalibrationTypeFactory,
    InstrumentFactory,
    MeasurementFactory,
    PlacementFactory,
    RoomFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def lab() -> dict[str, str]:
    """A register with every status, a thermometer found out of tolerance in the clean room, an
    overdue one in lab-1, and a day of readings in each room."""
    check = CalibrationTypeFactory(name="thermometer-check", lower_limit=-0.5, upper_limit=0.5)
    now = timezone.now().replace(microsecond=0)

    def calibrate(instrument_id: str, days_ago: float, error: float) -> Calibration:
        return calibration_create(
            calibration_type=check,
            value=error,
            username="a.very.long.username@lab.example.org",
            timestamp=now - timedelta(days=days_ago),
            instrument_id=instrument_id,
        )

    for instrument_id, name, interval in (
        ("TH-CLEAN", "Clean room probe", 365),
        ("TH-LAB1", "Calibration lab thermometer with a rather long name", 180),
        ("TH-SERVER", "Server room logger", 90),
        ("REF-01", "Reference thermometer (SPRT)", 730),
        ("TH-NEW", "Cold store thermometer", 365),
    ):
        InstrumentFactory(
            instrument_id=instrument_id,
            name=name,
            calibration_interval_days=interval,
            serial_number="SN-000000000000000000000000000001",
        )
    calibrate("TH-CLEAN", 300, 0.1)
    found = calibrate("TH-CLEAN", 0.5, 0.62)
    calibrate("TH-LAB1", 181.5, 0.05)  # due 12 hours ago: overdue
    calibrate("TH-SERVER", 76, -0.12)
    calibrate("REF-01", 150, 0.002)
    clean = RoomFactory(room_id="clean-room", name="Clean room")
    lab1 = RoomFactory(room_id="lab-1", name="Calibration lab")
    room_update(room=clean, min_c=18.0, max_c=20.8)
    for room, instrument in ((clean, "TH-CLEAN"), (lab1, "TH-LAB1")):
        PlacementFactory(
            instrument=Instrument.objects.get(pk=instrument),
            room=room,
            placed_at=now - timedelta(days=30),
        )
        for step in range(0, 24 * 6):
            at = now - timedelta(minutes=10 * step)
            MeasurementFactory(room=room, timestamp=at, value=19.5 + (step % 36) / 12)
    earlier = PlacementFactory(
        instrument=Instrument.objects.get(pk="TH-SERVER"),
        room=lab1,
        sensor="door",
        placed_at=now - timedelta(days=60),
    )
    placement_remove(placement=earlier, removed_at=now - timedelta(days=40))
    return {"found": str(found.pk)}


def look(page: Page, name: str) -> None:
    """The page as the person sees it, kept for a look (artifacts/screenshots/)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_staff_see_what_needs_them_and_trace_a_device_found_out_of_tolerance(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    data = lab()
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})

    # Home: what needs a person comes first, soonest first, each a link.
    page.goto(f"{live_server.url}/admin/")
    panel = page.locator("#attention-instruments")
    expect(panel).to_be_visible()
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("TH-LAB1")
    expect(rows.nth(0)).to_contain_text("Overdue")
    expect(rows.nth(1)).to_contain_text("TH-CLEAN")
    expect(rows.nth(1)).to_contain_text("Out of tolerance")
    expect(rows.nth(2)).to_contain_text("Due soon")
    box = panel.bounding_box()
    assert box is not None
    assert box["y"] < 400  # above the fold, before the apps
    assert page.evaluate(SIDEWAYS) == []
    look(page, "console-index-attention")

    # The register: colours and words, filters, fits the screen.
    page.click("#attention-instruments caption a")
    expect(page.locator("#result_list")).to_contain_text("TH-CLEAN")
    expect(page.locator(".instrument-status-out_of_tolerance").first).to_be_visible()
    assert page.evaluate(SIDEWAYS) == []
    look(page, "instruments-register")
    page.click("#changelist-filter >> text=Overdue")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list")).to_contain_text("TH-LAB1")

    # An instrument's page: where it stands, its calibrations, its placements.
    page.goto(f"{live_server.url}/admin/calibrations/instrument/TH-CLEAN/change/")
    expect(page.locator("#instrument-standing")).to_contain_text("Out of tolerance")
    expect(page.locator("#instrument-calibrations tbody tr")).to_have_count(2)
    expect(page.locator("#placements-group")).to_contain_text("clean-room")
    assert page.evaluate(SIDEWAYS) == []
    look(page, "instrument-page")

    # From its out-of-tolerance calibration, the impact, then the room over that window.
    page.click("#instrument-calibrations tr.calibration-false a")
    expect(page.locator("#impact-panel")).to_be_visible()
    expect(page.locator("#impact-placements")).to_contain_text("clean-room")
    assert page.url.endswith(f"/admin/calibrations/calibration/{data['found']}/change/")
    assert page.evaluate(SIDEWAYS) == []
    page.locator("#impact-panel").scroll_into_view_if_needed()
    look(page, "calibration-impact")
    page.click("#impact-placements a.impact-room")
    expect(page.locator(".messagelist")).to_contain_text("Highlighted: what TH-CLEAN measured here")
    expect(page.locator("svg.temperature-chart rect.chart-mark-impact").first).to_be_attached()
    assert page.evaluate(SIDEWAYS) == []
    page.locator("svg.temperature-chart").scroll_into_view_if_needed()
    look(page, "room-impact-window")

    # lab-1's readings of the last half day came from an overdue thermometer: marked.
    page.goto(f"{live_server.url}/admin/measurements/room/lab-1/change/")
    expect(page.locator("svg.temperature-chart rect.chart-mark-overdue").first).to_be_attached()
    expect(page.locator(".messagelist")).to_contain_text("Outlined bands on the chart")
    page.locator("svg.temperature-chart").scroll_into_view_if_needed()
    look(page, "room-flagged-readings")
    page.goto(f"{live_server.url}/admin/measurements/measurement/?room__exact=lab-1")
    expect(page.locator(".reading-flag").first).to_contain_text("Overdue")
    assert page.evaluate(SIDEWAYS) == []
    look(page, "readings-flagged")


def test_staff_place_an_instrument_and_a_clash_names_the_placement_in_the_way(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    lab()
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    for path in ("/admin/monitoring/placement/", "/admin/calibrations/calibrationtype/"):
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(SIDEWAYS) == [], path
    page.goto(f"{live_server.url}/admin/monitoring/placement/add/")
    page.click("#id_instrument + .select2 .select2-selection")
    page.fill(".select2-search__field", "TH-NEW")
    page.click(".select2-results__option >> text=TH-NEW")
    page.click("#id_room + .select2 .select2-selection")
    page.fill(".select2-search__field", "lab-1")
    page.click(".select2-results__option >> text=lab-1")
    page.click("#id_placed_at_0 + .datetimeshortcuts >> text=Today")
    page.click("#id_placed_at_1 + .datetimeshortcuts >> text=Now")
    page.click("input[name=_save]")
    # lab-1's unnamed sensor is TH-LAB1's: refused, naming that placement.
    expect(page.locator(".errornote, .errorlist").first).to_be_visible()
    expect(page.locator("body")).to_contain_text(
        "Instrument 'TH-LAB1' is placed as the unnamed sensor of room 'lab-1'"
    )
    assert page.evaluate(SIDEWAYS) == []
    look(page, "placement-clash")
    page.fill("#id_sensor", "window")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
