"""Corrections in the operator console: only with a reason, never altering what was not
changed, each a new version shown on the calibration's page."""

import html
import re
from datetime import UTC, datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.test import Client

from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create
from tagging.models import TagAssignment
from tests.factories import CalibrationTypeFactory

pytestmark = pytest.mark.django_db

DONE = datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def calibration() -> Calibration:
    return calibration_create(
        calibration_type=CalibrationTypeFactory(name="gain"),
        value=1.0000000000000002,
        username="alice",
        timestamp=DONE,
    )


def url(calibration: Calibration) -> str:
    return f"/admin/calibrations/calibration/{calibration.pk}/change/"


def form_as_rendered(client: Client, calibration: Calibration) -> dict[str, str]:
    """The change form's values as the page shows them: what a browser posts back untouched."""
    page = client.get(url(calibration)).content.decode()
    values = {}
    for name in ("value", "timestamp_0", "timestamp_1", "username"):
        match = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
        assert match, name
        found = re.search(r'value="([^"]*)"', match.group(0))
        values[name] = html.unescape(found.group(1)) if found else ""
    selected = re.search(
        r'<select[^>]*name="calibration_type".*?<option value="(\d+)" selected', page, re.S
    )
    assert selected
    values["calibration_type"] = selected.group(1)
    values.update({"tag_assignments-TOTAL_FORMS": "0", "tag_assignments-INITIAL_FORMS": "0"})
    return values


def stored(calibration: Calibration) -> tuple[object, ...]:
    c = Calibration.objects.get(pk=calibration.pk)
    return (c.calibration_type_id, c.value, c.timestamp, c.username, c.created_at, c.created_by_id)


def test_an_untouched_save_that_adds_a_tag_keeps_every_field_exactly(
    admin_client: Client, calibration: Calibration
) -> None:
    before = stored(calibration)
    data = form_as_rendered(admin_client, calibration)
    assert data["timestamp_1"] == "10:00:00.123456"
    response = admin_client.post(url(calibration), {**data, "add_tags": "reviewed"})
    assert response.status_code == 302
    assert stored(calibration) == before  # microseconds and the float's last bit included
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1
    assert TagAssignment.objects.filter(calibration=calibration, tag__name="reviewed").exists()


def test_a_change_without_a_reason_is_refused_naming_the_field(
    admin_client: Client, calibration: Calibration
) -> None:
    before = stored(calibration)
    data = {**form_as_rendered(admin_client, calibration), "value": "2.5"}
    response = admin_client.post(url(calibration), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "change_reason" in errors
    assert "Value" in errors["change_reason"][0]
    assert stored(calibration) == before
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1


def test_a_correction_with_a_reason_changes_only_that_field_and_adds_a_version(
    admin_client: Client, admin_user: User, calibration: Calibration
) -> None:
    data = {
        **form_as_rendered(admin_client, calibration),
        "value": "2.5",
        "change_reason": "Read the wrong dial.",
    }
    response = admin_client.post(url(calibration), data)
    assert response.status_code == 302
    after = Calibration.objects.get(pk=calibration.pk)
    assert (after.value, after.timestamp, after.username) == (2.5, DONE, "alice")
    version = CalibrationVersion.objects.get(calibration=calibration, version=2)
    assert (version.change, version.reason, version.changed_by) == (
        "changed",
        "Read the wrong dial.",
        admin_user.username,
    )
    assert (version.value, version.timestamp) == (2.5, DONE)


def test_a_new_timestamp_to_the_second_is_a_change_like_any_other(
    admin_client: Client, calibration: Calibration
) -> None:
    data = {
        **form_as_rendered(admin_client, calibration),
        "timestamp_1": "11:30:00",
        "change_reason": "Entered the wrong hour.",
    }
    assert admin_client.post(url(calibration), data).status_code == 302
    assert Calibration.objects.get(pk=calibration.pk).timestamp == datetime(
        2025, 4, 1, 11, 30, tzinfo=UTC
    )
    # The tag periods' copy of the timestamp follows the correction.
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 2


def test_the_page_lists_versions_with_what_changed_who_when_why(
    admin_client: Client, calibration: Calibration, django_assert_max_num_queries
) -> None:
    staff = User.objects.create_user("technician")
    calibration_correct(calibration=calibration, user=staff, reason="Typo.", value=1.25)
    calibration_correct(calibration=calibration, user=staff, reason="Was bob.", username="bob")
    # Session, user, the calibration with its type, the type autocomplete's choice, the active
    # tags (remove box), the tag history, the versions with their types; some slack for the
    # admin's own (permissions, log entries).
    with django_assert_max_num_queries(12):
        page = admin_client.get(url(calibration)).content.decode()
    table = page[page.index('class="calibration-versions"') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]
    assert len(rows) == 3
    assert "created" in rows[0]
    assert "value: 1.0000000000000002" in rows[0]
    assert "value: 1.0000000000000002 → 1.25" in html.unescape(rows[1])
    assert "Typo." in rows[1]
    assert "technician" in rows[1]
    assert "username: alice → bob" in html.unescape(rows[2])
    assert "value" not in rows[2]  # only what changed


def test_versions_have_no_admin_pages_to_change_or_delete_them(
    admin_client: Client, calibration: Calibration
) -> None:
    assert admin_client.get("/admin/calibrations/calibrationversion/").status_code == 404
    version = CalibrationVersion.objects.get(calibration=calibration)
    assert (
        admin_client.get(f"/admin/calibrations/calibrationversion/{version.pk}/delete/").status_code
        == 404
    )


def test_deleting_a_calibration_says_it_is_kept_with_its_versions(
    admin_client: Client, calibration: Calibration
) -> None:
    page = admin_client.get(url(calibration).replace("/change/", "/delete/")).content.decode()
    assert "kept with its versions" in page
    admin_client.post(url(calibration).replace("/change/", "/delete/"), {"post": "yes"})
    assert Calibration.objects.filter(pk=calibration.pk).exists()
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1


def history(client: Client, calibration: Calibration) -> str:
    response = client.get(url(calibration).replace("/change/", "/history/"))
    assert response.status_code == 200
    return str(response.content.decode())


def test_the_history_page_is_the_versions_the_service_wrote(
    admin_client: Client, calibration: Calibration
) -> None:
    # An untouched save, then a correction: Django's History said "Changed Timestamp." for
    # the first, which wrote no version.
    admin_client.post(url(calibration), form_as_rendered(admin_client, calibration))
    admin_client.post(
        url(calibration),
        {**form_as_rendered(admin_client, calibration), "value": "1.5", "change_reason": "Dial."},
    )
    page = history(admin_client, calibration)
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td>", page)
    assert rows == [("1", "created"), ("2", "changed")]
    assert "value: 1.0000000000000002 → 1.5" in page
    assert "Dial." in page
    assert "Changed Timestamp" not in page
    assert "2 versions" in page
    # The change form's History link leads there.
    change_form = admin_client.get(url(calibration)).content.decode()
    assert f'href="/admin/calibrations/calibration/{calibration.pk}/history/"' in change_form


def test_the_log_of_an_untouched_save_names_no_changed_field(
    admin_client: Client, calibration: Calibration
) -> None:
    admin_client.post(url(calibration), form_as_rendered(admin_client, calibration))
    admin_client.post(
        url(calibration),
        {**form_as_rendered(admin_client, calibration), "username": "bob", "change_reason": "x"},
    )
    messages = [e.get_change_message() for e in LogEntry.objects.order_by("action_time")]
    assert messages == ["No fields changed.", "Changed Username."]


def test_a_reason_typed_with_no_field_changed_is_said_to_be_dropped(
    admin_client: Client, calibration: Calibration
) -> None:
    response = admin_client.post(
        url(calibration),
        {**form_as_rendered(admin_client, calibration), "change_reason": "Checked again."},
        follow=True,
    )
    page = html.unescape(response.content.decode())
    assert "The reason “Checked again.” was not kept: no recorded field" in page
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1
    assert "Checked again." not in history(admin_client, calibration)


def test_the_history_of_an_unknown_calibration_is_not_a_page(admin_client: Client) -> None:
    response = admin_client.get(
        "/admin/calibrations/calibration/00000000-0000-0000-0000-000000000000/history/",
        follow=True,
    )
    assert response.redirect_chain == [("/admin/calibrations/calibration/", 302)]
    assert "No calibration has the id" in response.content.decode()


@pytest.mark.parametrize("typed", ["1e400", "-1e400", "inf", "nan"])
def test_a_value_beyond_a_double_is_refused_saying_so(
    admin_client: Client, calibration: Calibration, typed: str
) -> None:
    response = admin_client.post(
        url(calibration),
        {**form_as_rendered(admin_client, calibration), "value": typed, "change_reason": "x"},
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["value"]
    assert errors == [f"{typed} is not a finite number: a value lies within ±1.8e308."]
    assert stored(calibration)[1] == 1.0000000000000002
