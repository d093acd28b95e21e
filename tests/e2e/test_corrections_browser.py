"""A correction in the operator console, in a real browser: refused without a reason, then
made with one, and shown as a version with what changed."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_create
from tests.factories import CalibrationTypeFactory

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_correct_a_value_with_a_reason_and_see_the_version(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    done = datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)
    calibration = calibration_create(
        calibration_type=CalibrationTypeFactory(name="gain"),
        value=1.5,
        username="alice",
        timestamp=done,
    )
    page.goto(f"{live_server.url}/admin/calibrations/calibration/{calibration.pk}/change/")
    expect(page.locator("#id_timestamp_1")).to_have_value("10:00:00.123456")

    # A new value without a reason: refused, the field named, nothing stored.
    page.fill("#id_value", "1.25")
    page.click("input[name=_continue]")
    expect(page.locator(".field-change_reason .errorlist")).to_contain_text("Value")
    assert Calibration.objects.get(pk=calibration.pk).value == 1.5

    page.fill("#id_change_reason", "Read the wrong dial.")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    stored = Calibration.objects.get(pk=calibration.pk)
    assert (stored.value, stored.timestamp) == (1.25, done)  # the microseconds stayed

    versions = page.locator("table.calibration-versions tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.nth(1)).to_contain_text("value: 1.5 → 1.25")
    expect(versions.nth(1)).to_contain_text("Read the wrong dial.")
    expect(versions.nth(1)).to_contain_text("staff")
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 2
    # No horizontal scrolling at 1280 wide.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "calibration-versions.png"), full_page=True)


def test_history_shows_the_versions_and_a_reason_for_no_change_is_said_dropped(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    calibration = calibration_create(
        calibration_type=CalibrationTypeFactory(name="gain"),
        value=1.5,
        username="alice",
        timestamp=datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC),
    )
    change = f"{live_server.url}/admin/calibrations/calibration/{calibration.pk}/change/"
    page.goto(change)

    # A reason typed, nothing changed: saved, and the page says the reason was not kept.
    page.fill("#id_change_reason", "Looked at it again.")
    page.click("input[name=_continue]")
    warning = page.locator(".messagelist .warning")
    expect(warning).to_contain_text("The reason “Looked at it again.” was not kept")
    expect(warning).to_contain_text("no new version was written")
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "calibration-reason-dropped.png"))

    # A correction, then History: the versions, not Django's "Changed Timestamp.".
    page.fill("#id_value", "1.25")
    page.fill("#id_change_reason", "Read the wrong dial.")
    page.click("input[name=_continue]")
    page.click("a.historylink")
    expect(page.locator("h1")).to_contain_text("History: calibration")
    rows = page.locator("#change-history table.calibration-versions tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("created")
    expect(rows.nth(1)).to_contain_text("value: 1.5 → 1.25")
    expect(rows.nth(1)).to_contain_text("Read the wrong dial.")
    expect(rows.nth(1)).to_contain_text("staff")
    expect(page.locator("#content")).not_to_contain_text("Changed Timestamp")
    expect(page.locator("#content")).not_to_contain_text("Looked at it again.")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(ARTIFACTS / "calibration-history.png"), full_page=True)
