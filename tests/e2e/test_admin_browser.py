"""Lab staff's day in the operator console, in a real browser."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from calibrations.models import Calibration
from tagging.models import TagAssignment
from tests.factories import (
    CalibrationFactory,
    CalibrationTypeFactory,
    MeasurementFactory,
    RoomFactory,
    TagAssignmentFactory,
    TagFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_create_a_calibration_tag_it_untag_it_and_see_both_periods(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    # A transactional test starts from an empty database: the migration's types may be gone.
    CalibrationTypeFactory(name="gain")
    page = staff_page
    page.goto(f"{live_server.url}/admin/calibrations/calibration/add/")
    # The type is an autocomplete widget: open it, type, pick.
    page.click("#id_calibration_type + .select2 .select2-selection")
    page.fill(".select2-search__field", "gain")
    page.click(".select2-results__option >> text=gain")
    page.fill("#id_value", "1.25")
    page.fill("#id_timestamp_0", "2025-04-01")
    page.fill("#id_timestamp_1", "10:00:00")
    page.fill("#id_username", "alice")
    page.fill("#id_add_tags", "baseline-2025")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    calibration = Calibration.objects.get()
    assert calibration.username == "alice"
    # Carried from the instant the calibration exists (DESIGN §4.2), not a moment later.
    assert TagAssignment.objects.get(calibration=calibration).added_at == calibration.created_at

    # Remove it, then put it back: two periods.
    page.get_by_label("baseline-2025").check()
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    page.fill("#id_add_tags", "baseline-2025")
    page.click("input[name=_continue]")

    history = page.locator(
        "#tag_assignments-group tbody tr.has_original, #tag_assignments-group tbody tr[id^=tag_assignments-]"
    )
    expect(history).to_have_count(2)
    first, second = history.nth(0), history.nth(1)
    expect(first.locator("td.field-tag")).to_contain_text("baseline-2025")
    expect(first.locator("td.field-removed_by")).to_contain_text("staff")  # the closed period
    expect(second.locator("td.field-tag")).to_contain_text("baseline-2025")
    # The open period (the history shows times to the microsecond: column `removed_at_us`).
    expect(second.locator("td.field-removed_at_us")).to_have_text("-")
    assert TagAssignment.objects.filter(calibration=calibration).count() == 2
    assert TagAssignment.objects.active().filter(calibration=calibration).count() == 1
    expect(page.locator("td.field-tags_now, .field-remove_tags")).to_contain_text("baseline-2025")


def test_staff_look_up_a_tags_calibrations_as_of_a_past_instant(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    tag = TagFactory(name="baseline-2025")
    then = CalibrationFactory(username="then-user")
    now = CalibrationFactory(username="now-user")
    TagAssignmentFactory(
        calibration=then,
        tag=tag,
        added_at=datetime(2025, 1, 1, tzinfo=UTC),
        closed=True,
        removed_at=datetime(2025, 5, 1, tzinfo=UTC),
    )
    TagAssignmentFactory(calibration=now, tag=tag, added_at=datetime(2025, 6, 1, tzinfo=UTC))

    page = staff_page
    page.goto(f"{live_server.url}/admin/tagging/tag/")
    page.click("text=baseline-2025")
    table = page.locator("#tagged-calibrations")
    expect(table).to_contain_text("now-user")
    expect(table).not_to_contain_text("then-user")
    page.fill("#as_of", "2025-03-15T00:00:00Z")
    page.click("#as-of-form input[type=submit]")
    expect(table).to_contain_text("then-user")
    expect(table).not_to_contain_text("now-user")
    expect(page.locator("#tag-calibrations h2")).to_contain_text("as of 2025-03-15")


def test_staff_open_a_room_and_see_its_chart_drawn(staff_page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    room = RoomFactory(room_id="lab-1", name="Optics lab")
    for step in range(0, 7 * 24 * 4):  # every 15 minutes for a week, a daily swing
        MeasurementFactory(
            room=room,
            timestamp=now - timedelta(minutes=15 * step),
            value=21 + 2 * math.sin(step / 96 * 2 * math.pi),
        )

    page = staff_page
    page.goto(f"{live_server.url}/admin/measurements/room/")
    page.fill("#searchbar", "lab-1")
    page.press("#searchbar", "Enter")
    page.click("#result_list >> text=lab-1")
    chart = page.locator("svg.temperature-chart")
    expect(chart).to_be_visible()
    line = chart.locator("polyline.average")
    expect(line).to_be_visible()
    box = line.bounding_box()
    assert box is not None
    assert box["width"] > 300  # drawn across the chart, not a dot
    assert box["height"] > 20
    expect(page.locator("#room-averages tr.average-1w")).to_contain_text("672")  # readings
    page.click("text=Last 7 days")
    expect(page.locator(".chart-periods strong")).to_have_text("Last 7 days")
    # An hourly point for each hour of the week (both partial end hours included).
    assert chart.locator("circle.point").count() in (168, 169)


def test_staff_see_a_rooms_status_set_its_range_and_see_its_excursions(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    room = RoomFactory(room_id="balance", name="Balance room")
    for step in range(6 * 24):  # every 10 minutes for a day, 20 °C but 24 °C 3 to 4 hours ago
        age = timedelta(minutes=10 * step)
        value = 24.0 if timedelta(hours=3) <= age <= timedelta(hours=4) else 20.0
        MeasurementFactory(room=room, timestamp=now - age, value=value)

    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/admin/measurements/room/")
    expect(page.locator("#result_list .room-status")).to_have_text("No range")
    # The rooms list fits the screen: no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    page.click("#result_list >> text=balance")
    expect(page.locator("#room-excursions-title, #excursions-title")).to_contain_text("7 days")
    expect(page.locator(".excursions-none")).to_contain_text("No acceptable range")
    page.fill("#id_min_c", "22")
    page.fill("#id_max_c", "18")
    page.click("input[name=_continue]")
    expect(page.locator(".errorlist")).to_contain_text("must be below the maximum")
    page.fill("#id_min_c", "18")
    page.fill("#id_max_c", "22")
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")

    chart = page.locator("svg.temperature-chart")
    expect(chart.locator("rect.acceptable")).to_be_visible()
    mark = chart.locator("rect.excursion-high")
    expect(mark).to_have_count(1)
    box = mark.bounding_box()
    assert box is not None
    assert box["width"] > 10  # an hour of a 24-hour chart, not a sliver
    rows = page.locator("#room-excursions tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("24.00 °C")
    expect(rows.first).to_contain_text("1 h 10 min")  # the first reading back inside ends it
    expect(page.locator("#room-status")).to_contain_text("OK")

    page.goto(f"{live_server.url}/admin/measurements/room/?status=ok")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(f"{live_server.url}/admin/measurements/room/?status=high")
    expect(page.locator("#result_list tbody tr")).to_have_count(0)
