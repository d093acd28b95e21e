"""A tag's page in the operator console: its calibrations now and as of any instant; archiving."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tagging.models import TagAssignment
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_a_tags_page_lists_its_calibrations_now_and_as_of_a_typed_instant(
    admin_client: Client,
) -> None:
    tag = TagFactory(name="baseline-2025")
    current = CalibrationFactory(username="now-user")
    former = CalibrationFactory(username="then-user")
    TagAssignmentFactory(calibration=current, tag=tag, added_at=datetime(2025, 6, 1, tzinfo=UTC))
    TagAssignmentFactory(
        calibration=former,
        tag=tag,
        added_at=datetime(2025, 1, 1, tzinfo=UTC),
        closed=True,
        removed_at=datetime(2025, 5, 1, tzinfo=UTC),
    )
    url = f"/admin/tagging/tag/{tag.pk}/change/"
    now_page = admin_client.get(url).content.decode()
    assert str(current.pk) in now_page
    assert str(former.pk) not in now_page
    march = admin_client.get(url, {"as_of": "2025-03-01T00:00:00Z"}).content.decode()
    assert str(former.pk) in march
    assert str(current.pk) not in march
    bad = admin_client.get(url, {"as_of": "last march"})
    assert bad.status_code == 200
    assert "not an ISO 8601 timestamp" in bad.content.decode()


def test_the_tag_list_shows_how_many_calibrations_carry_each_tag_now(
    admin_client: Client,
) -> None:
    for name, active in {"none": 0, "one": 1, "three": 3}.items():
        tag = TagFactory(name=name)
        TagAssignmentFactory.create_batch(active, tag=tag)
        TagAssignmentFactory(tag=tag, closed=True)  # a closed period does not count
    page = admin_client.get("/admin/tagging/tag/").content.decode()
    shown = re.findall(
        r'<th class="field-name"><a [^>]*>([^<]+)</a></th>\s*<td class="field-active_count">(\d+)</td>',
        page,
    )
    assert sorted(shown) == [("none", "0"), ("one", "1"), ("three", "3")]


def test_the_tag_list_query_count_does_not_grow_with_the_tags(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    for tag in TagFactory.create_batch(30):
        TagAssignmentFactory(tag=tag)
    # session, user, the filtered and the total count of tags, the page with its active counts.
    with django_assert_max_num_queries(5):
        response = admin_client.get("/admin/tagging/tag/")
    assert response.content.decode().count('class="field-active_count">1<') == 30


def test_archiving_selected_tags_removes_them_everywhere_and_keeps_history(
    admin_client: Client,
) -> None:
    archived, kept = TagFactory(name="old"), TagFactory(name="keep")
    TagAssignmentFactory.create_batch(2, tag=archived, added_at=timezone.now() - timedelta(hours=1))
    TagAssignmentFactory(tag=kept, added_at=timezone.now() - timedelta(hours=1))
    response = admin_client.post(
        "/admin/tagging/tag/",
        # Archiving asks first (tests/tagging/test_admin_console.py): confirmed here.
        {"action": "archive", "_selected_action": [str(archived.pk)], "confirmed": "yes"},
        follow=True,
    )
    assert "removed from 2 calibration(s)" in response.content.decode()
    assert TagAssignment.objects.filter(tag=archived).count() == 2
    assert not TagAssignment.objects.active().filter(tag=archived).exists()
    assert TagAssignment.objects.active().filter(tag=kept).count() == 1


def test_the_tag_history_list_is_read_only_newest_first_and_does_not_grow_in_queries(
    admin_client: Client, django_assert_max_num_queries
) -> None:
    tag, other = TagFactory(name="baseline-2025"), TagFactory(name="other")
    older = TagAssignmentFactory(tag=tag, added_at=datetime(2025, 1, 1, tzinfo=UTC))
    newer = TagAssignmentFactory(tag=tag, added_at=datetime(2025, 6, 1, tzinfo=UTC))
    TagAssignmentFactory.create_batch(20, tag=other)
    url = "/admin/tagging/tagassignment/"
    with django_assert_max_num_queries(8):
        assert admin_client.get(url).status_code == 200
    TagAssignmentFactory.create_batch(60, tag=other)
    with django_assert_max_num_queries(8):
        page = admin_client.get(url).content.decode()
    assert "Add tag assignment" not in page
    one_tag = admin_client.get(url, {"tag__id__exact": tag.pk}).content.decode()
    assert one_tag.index(f"/{newer.pk}/change/") < one_tag.index(f"/{older.pk}/change/")
    assert len(re.findall(r'href="/admin/tagging/tagassignment/\d+/change/', one_tag)) == 2
