"""Alarms and their targets in a real browser at 1280 × 800: staff find an alarm, read who was
told, acknowledge it with a comment; a target's page never shows its secrets."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from measurements.services import reading_record, room_update
from monitoring.models import Alarm
from monitoring.services import target_create
from tests.e2e.test_consoles_browser import SIDEWAYS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
SECRET_URL = "jsons://bot:hunter2-secret@hooks.example.org/lab?token=tok-secret-9"


def alarms() -> list[Alarm]:
    target_create(name="Lab webhook", url=SECRET_URL, events=["raised", "acknowledged"])
    now = datetime.now(UTC).replace(microsecond=0)
    raised = []
    for n, (room_id, value) in enumerate((("balance-room", 24.5), ("cold-store", 12.0))):
        reading_record(room_id=room_id, value=20.0, timestamp=now - timedelta(hours=2))
        room_update(room=room_id, name=f"Room {n}", min_c=18.0, max_c=22.0)
        reading_record(room_id=room_id, value=value, timestamp=now - timedelta(minutes=30))
        raised.append(Alarm.objects.get(room_id=room_id))
    return raised


def test_staff_find_an_alarm_read_who_was_told_and_acknowledge_it(
    staff_page: Page,
    live_server,  # type: ignore[no-untyped-def]
) -> None:
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    high, _ = alarms()
    page.goto(f"{live_server.url}/admin/monitoring/alarm/")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    assert page.evaluate(SIDEWAYS) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "alarms.png"))

    page.get_by_role("link", name=str(high.pk), exact=True).click()
    expect(page.locator(".inline-group")).to_contain_text("Lab webhook")
    assert page.evaluate(SIDEWAYS) == []
    page.screenshot(path=str(SCREENSHOTS / "alarm.png"), full_page=True)
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("#acknowledge-alarm")).to_be_visible()  # a comment is required
    page.fill("#acknowledge-alarm textarea", "Door to the balance room was propped open.")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Acknowledged alarm {high.pk}")
    expect(page.locator("#acknowledge-alarm")).to_have_count(0)
    expect(page.locator("#content")).to_contain_text("Door to the balance room was propped open.")
    high.refresh_from_db()
    assert (high.acknowledged_by, high.comment) == (
        "staff",
        "Door to the balance room was propped open.",
    )


def test_a_targets_pages_show_its_url_masked(
    staff_page: Page,
    live_server,  # type: ignore[no-untyped-def]
) -> None:
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    alarms()
    for path in ("/admin/monitoring/notificationtarget/", "/admin/monitoring/notification/"):
        page.goto(f"{live_server.url}{path}")
        assert "hunter2-secret" not in page.content()
        assert "tok-secret-9" not in page.content()
        assert page.evaluate(SIDEWAYS) == []
    page.goto(f"{live_server.url}/admin/monitoring/notificationtarget/")
    page.get_by_role("link", name="Lab webhook").click()
    url = page.locator("#id_url").input_value()
    assert url == "jsons://bot:***@hooks.example.org/lab?token=***"
    page.screenshot(path=str(SCREENSHOTS / "notification-target.png"), full_page=True)
