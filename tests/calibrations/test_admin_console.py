"""Finding calibrations the way staff search, and the list's and pages' console fixes."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from calibrations.models import Calibration
from config.admin import uuid_prefix_range
from tagging.models import TagAssignment
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/calibrations/calibration/"


def listed(client: Client, **params: str) -> set[str]:
    """The full ids of the calibrations a changelist page shows (from the short id's title)."""
    page = client.get(CHANGELIST, params).content.decode()
    return set(re.findall(r'class="console-short-id" title="([0-9a-f-]{36})"', page))


def test_search_matches_a_username_prefix_in_any_case(admin_client: Client) -> None:
    alice = CalibrationFactory(username="Alice.Smith")
    CalibrationFactory(username="bob")
    assert listed(admin_client, q="ali") == {str(alice.pk)}
    assert listed(admin_client, q="ALICE.s") == {str(alice.pk)}


def test_search_matches_an_id_prefix_with_or_without_dashes(admin_client: Client) -> None:
    one = CalibrationFactory()
    CalibrationFactory.create_batch(3)
    text = str(one.pk)
    assert str(one.pk) in listed(admin_client, q=text[:10])  # "xxxxxxxx-x"
    assert listed(admin_client, q=text) == {text}
    assert listed(admin_client, q=text.replace("-", "")[:12].upper()) >= {text}


def test_search_by_a_tags_name_lists_the_calibrations_carrying_it_now(
    admin_client: Client,
) -> None:
    tag = TagFactory(name="Baseline-2025")
    carrying, dropped = CalibrationFactory(username="zed"), CalibrationFactory(username="zed")
    TagAssignmentFactory(calibration=carrying, tag=tag)
    TagAssignmentFactory(calibration=dropped, tag=tag, removed_at=datetime(2025, 5, 1, tzinfo=UTC))
    assert listed(admin_client, q="baseline-2025") == {str(carrying.pk)}


def test_the_id_prefix_range_covers_exactly_the_ids_starting_with_it() -> None:
    assert uuid_prefix_range("3f2A") == (
        "3f2a0000-0000-0000-0000-000000000000",
        "3f2affff-ffff-ffff-ffff-ffffffffffff",
    )
    assert uuid_prefix_range("alice") is None
    assert uuid_prefix_range("") is None


def test_the_list_filters_by_a_tag_carried_now_and_by_utc_dates(admin_client: Client) -> None:
    march = CalibrationFactory(timestamp=datetime(2025, 3, 31, 23, 59, 59, tzinfo=UTC))
    april = CalibrationFactory(timestamp=datetime(2025, 4, 1, 0, 0, tzinfo=UTC))
    TagAssignmentFactory(calibration=april, tag=TagFactory(name="reviewed"))
    assert listed(admin_client, tag="REVIEWED") == {str(april.pk)}
    assert listed(admin_client, tag="no-such-tag") == set()
    assert listed(
        admin_client, timestamp__range_from="2025-03-01", timestamp__range_to="2025-03-31"
    ) == {str(march.pk)}
    assert listed(admin_client, timestamp__range_from="2025-04-01") == {str(april.pk)}
    page = admin_client.get(CHANGELIST, {"timestamp__range_from": "31/03/2025"})
    assert page.status_code == 200
    assert "is not a date" in page.content.decode()


def test_show_all_appears_only_on_a_searched_or_filtered_list(admin_client: Client) -> None:
    CalibrationFactory(username="alice")
    assert "Show all" not in admin_client.get(CHANGELIST).content.decode()
    assert "Show all" in admin_client.get(CHANGELIST, {"q": "alice"}).content.decode()


def test_the_add_form_prefills_the_username_and_has_no_history_table(
    admin_client: Client,
) -> None:
    page = admin_client.get(CHANGELIST + "add/").content.decode()
    assert re.search(r'name="username"[^>]*value="admin"', page)
    assert "Tag history" not in page


def test_the_tag_history_shows_microseconds(admin_client: Client) -> None:
    calibration = CalibrationFactory()
    TagAssignmentFactory(
        calibration=calibration, added_at=datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)
    )
    page = admin_client.get(f"{CHANGELIST}{calibration.pk}/change/").content.decode()
    assert "2025-04-01 10:00:00.123456" in page


def test_removing_a_tag_from_many_asks_first_and_changes_nothing_until_confirmed(
    admin_client: Client,
) -> None:
    tag = TagFactory(name="current-state")
    calibrations = CalibrationFactory.create_batch(3)
    for calibration in calibrations:
        TagAssignmentFactory(calibration=calibration, tag=tag)
    data = {
        "action": "remove_tag",
        "tag": "current-state",
        "_selected_action": [str(c.pk) for c in calibrations],
    }
    asked = admin_client.post(CHANGELIST, data)
    assert asked.status_code == 200
    assert "Yes, I’m sure" in asked.content.decode()
    assert "from the 3 selected calibration(s)" in asked.content.decode()
    assert TagAssignment.objects.active().filter(tag=tag).count() == 3
    done = admin_client.post(CHANGELIST, {**data, "confirmed": "yes"}, follow=True)
    assert "Removed &#x27;current-state&#x27; from 3 calibration(s)." in done.content.decode()
    assert TagAssignment.objects.active().filter(tag=tag).count() == 0


def test_removing_a_tag_nobody_carries_or_that_does_not_exist_says_so(
    admin_client: Client,
) -> None:
    TagFactory(name="spare")
    calibration = CalibrationFactory()
    data = {"action": "remove_tag", "_selected_action": [str(calibration.pk)]}
    page = admin_client.post(CHANGELIST, {**data, "tag": "spare"}, follow=True).content.decode()
    assert "None of the selected calibrations carries" in page
    assert "from 0" not in page
    page = admin_client.post(CHANGELIST, {**data, "tag": "ghost"}, follow=True).content.decode()
    assert "No tag is named &#x27;ghost&#x27;" in page


def test_deleting_a_calibration_with_history_explains_why_it_is_kept(
    admin_client: Client,
) -> None:
    calibration = CalibrationFactory()
    TagAssignmentFactory(calibration=calibration)
    page = admin_client.get(f"{CHANGELIST}{calibration.pk}/delete/").content.decode()
    assert "kept for the record" in page
    assert "permission" not in page.split('id="content"')[1]
    admin_client.post(f"{CHANGELIST}{calibration.pk}/delete/", {"post": "yes"})
    assert Calibration.objects.filter(pk=calibration.pk).exists()
