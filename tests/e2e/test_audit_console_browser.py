"""What a new user ran into in the console, in a real browser at 1280 × 800: each fixed, each
checked as a person sees it (a screenshot of each page is kept under artifacts/)."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from calibrations.models import Calibration
from calibrations.services import calibration_create
from tagging.models import Tag
from tests.factories import CalibrationTypeFactory

from .conftest import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def fits(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_tags_add_page_has_a_save_button_and_refuses_a_name_in_another_case(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    Tag.objects.create(name="Ärger mit Leerzeichen")
    page.goto(f"{live_server.url}/admin/tagging/tag/add/")
    save = page.locator(".submit-row input[name=_save]")
    expect(save).to_be_visible()
    shot(page, "tag-add")
    page.fill("#id_name", "ÄRGER MIT LEERZEICHEN")
    save.click()
    expect(page.locator(".errorlist")).to_contain_text(
        "A tag with this name already exists, spelt 'Ärger mit Leerzeichen'."
    )
    page.fill("#id_name", "  Température Ω check ")
    page.locator(".submit-row input[name=_save]").click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    assert sorted(Tag.objects.values_list("name", flat=True)) == [
        "Température Ω check",
        "Ärger mit Leerzeichen",
    ]
    assert fits(page)


def _upload(page: Page, live_server, text: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/admin/calibrations/calibration/import/")
    page.set_input_files(
        "#id_import_file",
        files=[{"name": "calibrations.csv", "mimeType": "text/csv", "buffer": text.encode()}],
    )
    page.click("input[type=submit]")


def test_import_problems_are_written_out_at_their_lines_and_a_semicolon_file_is_read(
    staff_page: Page, live_server
) -> None:  # type: ignore[no-untyped-def]
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    CalibrationTypeFactory(name="gain")
    _upload(
        page,
        live_server,
        "calibration_type;value;timestamp;username\n"
        "gain;1.5;2025-04-01T10:00:00Z;alice\n"
        "gain;1,5;2025-04-01T11:00:00Z;alice\n"
        "torque;2;2025-04-01T12:00:00Z;bob\n",
    )
    expect(page.locator("h2")).to_contain_text("2 lines of the file cannot be imported")
    problems = page.locator("table.import-problems tbody tr")
    expect(problems).to_have_count(2)
    # Visible without hovering anything, beside the line a spreadsheet shows.
    expect(problems.nth(0).locator(".import-line")).to_have_text("3")
    expect(problems.nth(0).locator(".import-problem")).to_be_visible()
    expect(problems.nth(0).locator(".import-problem")).to_contain_text(
        "value: '1,5' is not a number: write the decimal mark as a point (1.5)."
    )
    expect(problems.nth(1).locator(".import-line")).to_have_text("4")
    expect(problems.nth(1).locator(".import-problem")).to_contain_text(
        "Unknown calibration type 'torque'"
    )
    expect(page.locator("body")).not_to_contain_text("InvalidDimensions")
    assert fits(page)
    shot(page, "import-problems")
    assert not Calibration.objects.exists()

    _upload(
        page,
        live_server,
        "calibration_type;value;timestamp;username\ngain;1.5;2025-04-01T10:00:00Z;alice\n",
    )
    page.click("input[name=confirm]")
    expect(page.locator(".messagelist")).to_contain_text("Import finished")
    assert Calibration.objects.get().username == "alice"


def test_a_value_beyond_a_double_is_refused_saying_why(staff_page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    page = staff_page
    page.set_viewport_size({"width": 1280, "height": 800})
    calibration = calibration_create(
        calibration_type=CalibrationTypeFactory(name="gain"), value=1.5, username="alice"
    )
    page.goto(f"{live_server.url}/admin/calibrations/calibration/{calibration.pk}/change/")
    page.fill("#id_value", "1e400")
    page.fill("#id_change_reason", "Typo.")
    page.click("input[name=_continue]")
    error = page.locator(".field-value .errorlist")
    expect(error).to_have_text("1e400 is not a finite number: a value lies within ±1.8e308.")
    expect(page.locator("body")).not_to_contain_text("This field is required")
    shot(page, "value-not-finite")
    assert Calibration.objects.get().value == 1.5


def test_a_locked_out_sign_in_is_a_page_of_the_console(
    page: Page, live_server, transactional_db: None
) -> None:  # type: ignore[no-untyped-def]
    User.objects.create_superuser("boss", "boss@example.org", "the-right-password-1")
    page.set_viewport_size({"width": 1280, "height": 800})
    for _ in range(5):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "boss")
        page.fill("#id_password", "a-guess")
        page.click("input[type=submit]")
    expect(page).to_have_title("Sign-in locked | Calibration & Measurement Service")
    expect(page.locator("#site-name")).to_have_text("Calibration & Measurement Service")
    expect(page.locator(".errornote")).to_contain_text("locked for 15 minutes")
    expect(page.locator("#content")).to_contain_text("sign in again")
    assert fits(page)
    shot(page, "login-locked-out")
