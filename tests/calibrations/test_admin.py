"""The calibration pages of the operator console: tags go through the services, history stays."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from calibrations.models import Calibration
from tagging.models import TagAssignment
from tests.factories import (
    CalibrationFactory,
    CalibrationTypeFactory,
    TagAssignmentFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/calibrations/calibration/"


@pytest.fixture
def staff(admin_client: Client) -> Client:
    return admin_client


def change_data(calibration: Calibration, **extra: object) -> dict[str, object]:
    return {
        "calibration_type": calibration.calibration_type_id,
        "value": calibration.value,
        "timestamp_0": calibration.timestamp.strftime("%Y-%m-%d"),
        "timestamp_1": calibration.timestamp.strftime("%H:%M:%S"),
        "username": calibration.username,
        "tag_assignments-TOTAL_FORMS": "0",
        "tag_assignments-INITIAL_FORMS": "0",
        **extra,
    }


def test_changelist_shows_tags_now_and_its_query_count_does_not_grow_with_rows(
    staff: Client, django_assert_max_num_queries
) -> None:
    tag = TagFactory(name="baseline-2025")
    for calibration in CalibrationFactory.create_batch(40):
        TagAssignmentFactory(calibration=calibration, tag=tag)
    # session, user, the filtered count (capped), the page with types, its tags,
    # the calibration-type filter choices, savepoint pair: well under 15.
    with django_assert_max_num_queries(12):
        response = staff.get(CHANGELIST)
    assert response.status_code == 200
    assert response.content.decode().count("baseline-2025") >= 40


def test_search_finds_a_calibration_by_exact_username_or_id(staff: Client) -> None:
    alice = CalibrationFactory(username="alice")
    bob = CalibrationFactory(username="bob")
    page = staff.get(CHANGELIST, {"q": "alice"}).content.decode()
    assert str(alice.pk) in page
    assert str(bob.pk) not in page
    page = staff.get(CHANGELIST, {"q": str(bob.pk)}).content.decode()
    assert str(bob.pk) in page
    assert str(alice.pk) not in page


def test_adding_a_calibration_in_the_admin_records_who_entered_it_and_its_tags(
    staff: Client,
) -> None:
    gain = CalibrationTypeFactory(name="gain")
    response = staff.post(
        "/admin/calibrations/calibration/add/",
        {
            "calibration_type": gain.pk,
            "value": "2.5",
            "timestamp_0": "2025-04-01",
            "timestamp_1": "10:00:00",
            "username": "carol",
            "add_tags": "baseline-2025, reference",
            "tag_assignments-TOTAL_FORMS": "0",
            "tag_assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content
    calibration = Calibration.objects.get()
    assert calibration.created_by is not None
    assert calibration.created_by.username == "admin"
    assert sorted(TagAssignment.objects.active().values_list("tag__name", flat=True)) == [
        "baseline-2025",
        "reference",
    ]


def test_tags_added_and_removed_on_the_change_page_keep_their_history(staff: Client) -> None:
    calibration = CalibrationFactory()
    url = f"/admin/calibrations/calibration/{calibration.pk}/change/"
    assert staff.post(url, change_data(calibration, add_tags="current-state")).status_code == 302
    assignment = TagAssignment.objects.get()
    assert assignment.is_active
    page = staff.get(url).content.decode()
    assert "Tag history (read-only)" in page
    assert "current-state" in page
    response = staff.post(url, change_data(calibration, remove_tags=[assignment.tag_id]))
    assert response.status_code == 302
    assignment.refresh_from_db()
    assert assignment.removed_at is not None
    assert assignment.removed_by is not None
    assert assignment.removed_by.username == "admin"
    assert staff.post(url, change_data(calibration, add_tags="current-state")).status_code == 302
    assert TagAssignment.objects.count() == 2
    assert TagAssignment.objects.active().count() == 1


def test_an_invalid_tag_name_on_the_change_page_is_refused_and_nothing_changes(
    staff: Client,
) -> None:
    calibration = CalibrationFactory()
    url = f"/admin/calibrations/calibration/{calibration.pk}/change/"
    response = staff.post(url, change_data(calibration, value="9", add_tags="ok, bad/name"))
    assert response.status_code == 200
    assert "bad/name" in response.content.decode()
    calibration.refresh_from_db()
    assert calibration.value == 1.5
    assert not TagAssignment.objects.exists()


def test_actions_add_and_remove_a_tag_on_the_selected_calibrations(staff: Client) -> None:
    chosen = CalibrationFactory.create_batch(3)
    other = CalibrationFactory()
    selected = [str(c.pk) for c in chosen]
    response = staff.post(
        CHANGELIST, {"action": "add_tag", "tag": "needs-review", "_selected_action": selected}
    )
    assert response.status_code == 302
    assert set(TagAssignment.objects.active().values_list("calibration_id", flat=True)) == {
        c.pk for c in chosen
    }
    staff.post(
        CHANGELIST,
        # Removing from many asks first (tests/calibrations/test_admin_console.py): confirmed.
        {
            "action": "remove_tag",
            "tag": "NEEDS-REVIEW",
            "_selected_action": selected[:2],
            "confirmed": "yes",
        },
    )
    assert list(TagAssignment.objects.active().values_list("calibration_id", flat=True)) == [
        chosen[2].pk
    ]
    assert TagAssignment.objects.count() == 3
    assert not TagAssignment.objects.filter(calibration=other).exists()


def test_a_tag_action_without_a_valid_tag_name_says_so_and_changes_nothing(staff: Client) -> None:
    calibration = CalibrationFactory()
    response = staff.post(
        CHANGELIST,
        {"action": "add_tag", "tag": " ", "_selected_action": [str(calibration.pk)]},
        follow=True,
    )
    assert "must not be blank" in response.content.decode()
    assert not TagAssignment.objects.exists()


def test_tag_history_cannot_be_edited_in_the_admin(staff: Client) -> None:
    assignment = TagAssignmentFactory(closed=True)
    assert staff.get("/admin/tagging/tagassignment/add/").status_code == 403
    url = f"/admin/tagging/tagassignment/{assignment.pk}/change/"
    assert staff.get(url).status_code == 200  # viewable
    staff.post(url, {"removed_at_0": "", "removed_at_1": ""})
    removed_at = assignment.removed_at
    assignment.refresh_from_db()
    assert assignment.removed_at == removed_at
    assert staff.get(f"/admin/tagging/tagassignment/{assignment.pk}/delete/").status_code == 403


def test_the_date_filter_narrows_the_list_to_recent_calibrations(staff: Client) -> None:
    recent = CalibrationFactory(username="recent", timestamp=timezone.now() - timedelta(days=2))
    old = CalibrationFactory(username="old", timestamp=timezone.now() - timedelta(days=400))
    page = staff.get(CHANGELIST).content.decode()
    assert "Past 7 days" in page
    # The "Past 7 days" link's own query.
    link = re.search(r'href="(\?timestamp__gte=[^"]*)"[^>]*>Past 7 days', page)
    assert link
    page = staff.get(CHANGELIST + html.unescape(link[1])).content.decode()
    assert str(recent.pk) in page
    assert str(old.pk) not in page
