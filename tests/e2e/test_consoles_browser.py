"""Both consoles at 1280 × 800 in a real browser: no list scrolls sideways, and an integrator
signs in to the browsable API and records a calibration through its HTML form."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import Page, expect

from calibrations.models import Calibration
from tests.factories import (
    CalibrationFactory,
    CalibrationTypeFactory,
    MeasurementFactory,
    RoomFactory,
    TagAssignmentFactory,
    TagFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Elements that scroll sideways (the page itself, or a list's `.results` box).
SIDEWAYS = """() => [document.documentElement, ...document.querySelectorAll('*')]
  .filter(e => e.scrollWidth > e.clientWidth + 1 &&
          (e === document.documentElement || ['auto', 'scroll'].includes(getComputedStyle(e).overflowX)))
  .map(e => `${e.tagName}.${e.className}: ${e.scrollWidth} > ${e.clientWidth}`)"""


@pytest.fixture
def lab_data() -> dict[str, str]:
    """A few records of every kind, with the long values that used to widen the lists."""
    tags = [TagFactory(name=name) for name in ("baseline-2025", "current-state", "needs-review")]
    calibration = None
    for i in range(30):
        calibration = CalibrationFactory(
            username=f"a.very.long.username.{i}@lab.example.org",
            timestamp=datetime(2025, 4, 1, tzinfo=UTC) + timedelta(hours=i, microseconds=123456),
        )
        for tag in tags:
            TagAssignmentFactory(calibration=calibration, tag=tag)
    room = RoomFactory(room_id="lab-1", name="Calibration lab")
    now = datetime.now(UTC).replace(microsecond=0)
    for i in range(12):
        MeasurementFactory(
            room=room, timestamp=now - timedelta(minutes=10 * i), value=21.0 + i / 10
        )
    assert calibration is not None
    return {"calibration": str(calibration.pk), "tag": str(tags[0].pk)}


def test_every_changelist_and_record_page_fits_1280_by_800(
    staff_page: Page, live_server, lab_data: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    paths = [
        "/admin/",
        "/admin/calibrations/calibration/",
        "/admin/calibrations/calibrationtype/",
        "/admin/tagging/tag/",
        "/admin/tagging/tagassignment/",
        "/admin/measurements/room/",
        "/admin/measurements/measurement/",
        "/admin/measurements/archivedmeasurement/",
        "/admin/auth/user/",
        "/admin/auth/group/",
        "/admin/authtoken/tokenproxy/",
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
        "/admin/axes/accessfailurelog/",
        f"/admin/calibrations/calibration/{lab_data['calibration']}/change/",
        "/admin/calibrations/calibration/add/",
        f"/admin/tagging/tag/{lab_data['tag']}/change/",
        "/admin/measurements/room/lab-1/change/",
    ]
    wide = {}
    for path in paths:
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None
        assert response.status == 200, path
        found = page.evaluate(SIDEWAYS)
        if found:
            wide[path] = found
    assert not wide


def test_an_integrator_signs_in_to_the_browsable_api_and_records_a_calibration(
    page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    CalibrationTypeFactory(name="gain")  # a transactional test starts without the migration's
    ivy = User.objects.create_user("ivy", password="ivy-pass-123")
    ivy.user_permissions.add(Permission.objects.get(codename="add_calibration"))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/api/calibrations")
    expect(page.locator("body")).to_contain_text("Authentication credentials were not provided")
    page.click("text=Log in")
    page.fill("#id_username", "ivy")
    page.fill("#id_password", "ivy-pass-123")
    page.click("button[type=submit], input[type=submit]")
    expect(page.locator(".navbar")).to_contain_text("ivy")
    assert page.url.endswith("/api/calibrations")
    form = page.locator("#post-object-form form")
    form.locator("[name=calibration_type]").fill("gain")
    form.locator("[name=value]").fill("1.25")
    form.locator("button").click()
    expect(page.locator(".response-info")).to_contain_text("HTTP 201 Created")
    calibration = Calibration.objects.get()
    assert calibration.value == 1.25
    assert calibration.username == "ivy"
    assert calibration.calibration_type.name == "gain"
    assert page.evaluate(SIDEWAYS) == []


def test_the_browsable_api_s_filters_leave_out_the_fields_left_blank(
    page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    # The API refuses a parameter given empty (DESIGN §4.1); the Filters dialog sends only
    # those filled in, so filtering by one field answers instead of a 400.
    CalibrationFactory(username="alice")
    CalibrationFactory(username="bob")
    User.objects.create_user("ivy", password="ivy-pass-123")
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/api-auth/login/?next=/api/calibrations")
    page.fill("#id_username", "ivy")
    page.fill("#id_password", "ivy-pass-123")
    page.click("button[type=submit], input[type=submit]")
    # The dialog opens by the page's scripts: a click before they ran (a loaded machine) did
    # nothing, so wait for the page after the login to have loaded them.
    page.wait_for_url(f"{live_server.url}/api/calibrations")
    page.wait_for_load_state("load")
    page.click("button[data-target='#filtersModal']")
    expect(page.locator("#filtersModal [name=username]")).to_be_visible()
    page.fill("#filtersModal [name=username]", "alice")
    page.click("#filtersModal button[type=submit]")
    expect(page.locator(".response-info")).to_contain_text("HTTP 200 OK")
    assert page.url.endswith("/api/calibrations?username=alice"), page.url
    expect(page.locator(".response-info")).to_contain_text('"username": "alice"')
    expect(page.locator(".response-info")).not_to_contain_text('"username": "bob"')
