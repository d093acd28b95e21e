"""A room's range change in the operator console, in a real browser at 1280 × 800: refused
without a reason, made with one; the page then lists the range history, the chart shades each
range where it was in force, History leads to the versions, and the readings download."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from measurements.models import RangeVersion
from tests.factories import MeasurementFactory, RoomFactory

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('*')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 &&
          (e === document.documentElement || ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)))
  .map(e => `${e.tagName}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)"""


def test_staff_change_a_range_with_a_reason_and_see_the_history_and_the_step(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    room = RoomFactory(room_id="balance", name="Balance room", min_c=18.0, max_c=22.0)
    RangeVersion.objects.filter(room=room).update(changed_at=now - timedelta(days=10))
    for step in range(6 * 24):  # every 10 minutes for a day: 21 °C, 21.6 °C for the last 3 h
        age = timedelta(minutes=10 * step)
        value = 21.6 if age <= timedelta(hours=3) else 21.0
        MeasurementFactory(room=room, timestamp=now - age, value=value)
    # Outside since before the week began: the table says the run began before the window.
    for days in (8, 6.5):
        MeasurementFactory(room=room, timestamp=now - timedelta(days=days), value=25.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(days=6), value=20.0)

    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/measurements/room/balance/change/")
    expect(page.locator("#room-averages thead")).to_contain_text("MKT")
    expect(page.locator("#room-averages tr.average-1w td.mkt")).to_contain_text("°C")
    expect(page.locator("#room-excursions")).to_contain_text("began before the window")

    page.fill("#id_max_c", "21.5")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist")).to_contain_text("needs a reason")
    page.fill("#id_min_c", "18")
    page.fill("#id_max_c", "21.5")
    page.fill("#id_change_reason", "Tighter band for the new balance class")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    history = page.locator("#range-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("18 – 22 °C")
    expect(history.nth(1)).to_contain_text("18 – 21.5 °C")
    expect(history.nth(1)).to_contain_text("Tighter band for the new balance class")
    expect(history.nth(1)).to_contain_text("staff")
    # The 7-day chart: 18–22 for most of it, then 18–21.5 for the last moments, a step.
    page.click("text=Last 7 days")
    bands = page.locator("svg.temperature-chart rect.acceptable")
    expect(bands).to_have_count(2)
    old, new = bands.nth(0).bounding_box(), bands.nth(1).bounding_box()
    assert old is not None
    assert new is not None
    assert old["width"] > 300  # most of the week
    assert new["height"] < old["height"]  # the narrower band
    assert page.evaluate(SIDEWAYS) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "room-range-history.png"), full_page=True)

    with page.expect_download() as download:
        page.click("#room-readings-csv")
    assert download.value.suggested_filename.startswith("readings-balance-")
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()  # noqa: SIM115
    assert lines[0] == "room_id,timestamp,sensor,value"
    assert len(lines) == 1 + 6 * 24 + 3

    page.goto(f"{live_server.url}/admin/measurements/room/balance/change/")
    page.click(".object-tools >> text=History")
    expect(page.locator("#content h1")).to_contain_text("Range history: balance")
    expect(page.locator("#range-history tbody tr")).to_have_count(2)
    assert page.evaluate(SIDEWAYS) == []
    page.screenshot(path=str(ARTIFACTS / "room-range-history-page.png"), full_page=True)
