"""A tag's page and the tag history list in the operator console."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from tagging.models import TagAssignment
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db

HISTORY = "/admin/tagging/tagassignment/"


def test_a_tags_page_counts_its_calibrations_and_has_no_empty_bar(admin_client: Client) -> None:
    tag = TagFactory(name="reference")
    for calibration in CalibrationFactory.create_batch(3):
        TagAssignmentFactory(calibration=calibration, tag=tag)
    page = admin_client.get(f"/admin/tagging/tag/{tag.pk}/change/").content.decode()
    assert '<span id="tagged-count">3</span>' in page
    assert 'class="submit-row"' not in page
    assert "Close" not in page


def test_a_date_alone_means_the_start_of_that_day_in_utc(admin_client: Client) -> None:
    tag = TagFactory(name="reference")
    early = CalibrationFactory()
    TagAssignmentFactory(
        calibration=early, tag=tag, added_at=datetime(2025, 3, 14, 23, 0, tzinfo=UTC)
    )
    TagAssignmentFactory(tag=tag, added_at=datetime(2025, 3, 15, 0, 0, 1, tzinfo=UTC))
    page = admin_client.get(
        f"/admin/tagging/tag/{tag.pk}/change/", {"as_of": "2025-03-15"}
    ).content.decode()
    assert "as of 2025-03-15 00:00:00 UTC" in page
    assert '<span id="tagged-count">1</span>' in page
    assert str(early.pk)[:8] in page
    bad = admin_client.get(f"/admin/tagging/tag/{tag.pk}/change/", {"as_of": "2025-02-30"})
    assert "errornote" in bad.content.decode()


def test_archiving_tags_asks_first_and_says_how_many_each_leaves(admin_client: Client) -> None:
    tag = TagFactory(name="old")
    TagAssignmentFactory(tag=tag)
    TagAssignmentFactory(tag=tag)
    data = {"action": "archive", "_selected_action": [str(tag.pk)]}
    asked = admin_client.post("/admin/tagging/tag/", data).content.decode()
    assert "old: carried by 2 calibration(s) now" in asked
    assert TagAssignment.objects.active().filter(tag=tag).count() == 2
    done = admin_client.post("/admin/tagging/tag/", {**data, "confirmed": "yes"}, follow=True)
    assert "removed from 2 calibration(s)" in done.content.decode()
    assert TagAssignment.objects.active().filter(tag=tag).count() == 0


def test_tag_history_is_newest_first_sortable_by_time_and_filtered(admin_client: Client) -> None:
    first = TagAssignmentFactory(
        tag=TagFactory(name="alpha"), added_at=datetime(2025, 1, 1, tzinfo=UTC)
    )
    second = TagAssignmentFactory(
        tag=TagFactory(name="beta"), added_at=datetime(2025, 6, 1, tzinfo=UTC)
    )
    page = admin_client.get(HISTORY).content.decode()
    assert page.index(str(second.calibration_id)) < page.index(str(first.calibration_id))
    oldest = admin_client.get(HISTORY, {"o": "2"}).content.decode()  # added_at, ascending
    assert oldest.index(str(first.calibration_id)) < oldest.index(str(second.calibration_id))
    by_tag = admin_client.get(HISTORY, {"tag_name": "ALPHA"}).content.decode()
    assert str(first.calibration_id) in by_tag
    assert str(second.calibration_id) not in by_tag
    by_date = admin_client.get(HISTORY, {"added_at__range_from": "2025-05-01"}).content.decode()
    assert str(second.calibration_id) in by_date
    assert str(first.calibration_id) not in by_date
    searched = admin_client.get(HISTORY, {"q": str(first.calibration_id)[:8]}).content.decode()
    assert str(first.calibration_id) in searched
    assert str(second.calibration_id) not in searched
    assert str(second.calibration_id) in admin_client.get(HISTORY, {"q": "beta"}).content.decode()
