"""The copy of a calibration's timestamp on its tag periods, and the page order it serves."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import F
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from calibrations.models import Calibration
from calibrations.selectors import calibrations_tagged
from calibrations.services import calibration_correct
from tagging.models import TagAssignment
from tagging.services import tag_remove, tags_add
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def copied_timestamp(assignment: TagAssignment) -> datetime | None:
    return TagAssignment.objects.values_list("calibration_timestamp", flat=True).get(
        pk=assignment.pk
    )


def drifted() -> list[TagAssignment]:
    """Tag periods whose copy differs from their calibration's timestamp (must stay empty)."""
    return list(TagAssignment.objects.exclude(calibration_timestamp=F("calibration__timestamp")))


def test_a_tag_period_opened_by_the_service_carries_its_calibrations_timestamp() -> None:
    calibration = CalibrationFactory(timestamp=datetime(2024, 2, 3, 4, 5, 6, 7, tzinfo=UTC))
    (result,) = tags_add(calibration=calibration, names=["baseline"], user=None)
    assert copied_timestamp(result.assignment) == calibration.timestamp
    # Closing the period (a save of the instance) keeps the copy.
    tag_remove(calibration=calibration, name="baseline", user=None)
    assert copied_timestamp(result.assignment) == calibration.timestamp


def test_correcting_a_calibrations_timestamp_updates_the_copy_on_its_tag_periods() -> None:
    calibration = CalibrationFactory()
    other = CalibrationFactory()
    for target in (calibration, other):
        tags_add(calibration=target, names=["a", "b"], user=None)
    corrected = datetime(2023, 1, 1, 0, 0, 0, 1, tzinfo=UTC)
    changed = calibration_correct(
        calibration=calibration, user=None, reason="Wrong day entered.", timestamp=corrected
    )
    assert changed == {"timestamp"}
    copies = set(
        TagAssignment.objects.filter(calibration=calibration).values_list(
            "calibration_timestamp", flat=True
        )
    )
    assert copies == {corrected}
    assert drifted() == []


def test_a_timestamp_corrected_in_the_admin_moves_the_calibration_in_its_tags_pages(
    reader_client: APIClient, client: Client
) -> None:
    tag = TagFactory(name="baseline")
    first = CalibrationFactory(timestamp=datetime(2025, 1, 1, tzinfo=UTC))
    second = CalibrationFactory(timestamp=datetime(2025, 2, 1, tzinfo=UTC))
    for calibration in (first, second):
        TagAssignmentFactory(calibration=calibration, tag=tag, added_at=timezone.now())
    url = "/api/tags/baseline/calibrations"
    ids = [c["calibration_id"] for c in reader_client.get(url).json()["results"]]
    assert ids == [str(second.pk), str(first.pk)]

    staff = User.objects.create_superuser("staff", password="pw-for-tests")
    client.force_login(staff)
    response = client.post(
        f"/admin/calibrations/calibration/{first.pk}/change/",
        {
            "calibration_type": first.calibration_type_id,
            "value": "1.5",
            "timestamp_0": "2025-03-01",
            "timestamp_1": "00:00:00",
            "username": "alice",
            "change_reason": "The month was wrong.",
            "add_tags": "",
            "tag_assignments-TOTAL_FORMS": "1",
            "tag_assignments-INITIAL_FORMS": "1",
            "tag_assignments-MIN_NUM_FORMS": "0",
            "tag_assignments-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    ids = [c["calibration_id"] for c in reader_client.get(url).json()["results"]]
    assert ids == [str(first.pk), str(second.pk)]
    assert drifted() == []


def test_pages_of_a_tags_calibrations_follow_on_through_equal_timestamps(
    reader_client: APIClient,
) -> None:
    tag = TagFactory(name="busy")
    same = datetime(2025, 5, 5, tzinfo=UTC)
    calibrations = [CalibrationFactory(timestamp=same) for _ in range(5)]
    calibrations += [CalibrationFactory(timestamp=same - timedelta(days=i)) for i in range(1, 4)]
    for calibration in calibrations:
        TagAssignmentFactory(calibration=calibration, tag=tag, added_at=timezone.now())
    expected = [
        str(c.pk)
        for c in Calibration.objects.filter(pk__in=[c.pk for c in calibrations]).order_by(
            "-timestamp", "-pk"
        )
    ]
    seen, url = [], "/api/tags/busy/calibrations?page_size=3"
    while url:
        body = reader_client.get(url).json()
        seen += [c["calibration_id"] for c in body["results"]]
        url = body["next"]
    assert seen == expected


@pytest.mark.postgresql
def test_the_first_page_of_a_tags_calibrations_is_read_in_index_order_without_a_sort() -> None:
    tag = TagFactory(name="indexed")
    for calibration in CalibrationFactory.create_batch(20):
        TagAssignmentFactory(calibration=calibration, tag=tag)
    queryset = (
        calibrations_tagged(tag, as_of=timezone.now())
        .order_by("-tagged_timestamp", "-pk")
        .values_list("pk", flat=True)[:5]
    )
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny tables favour a sequential scan; take it away to see what the index can do.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "tagassignment_tag_cal_ts_idx" in plan
    assert "Sort" not in plan


def test_a_crafted_cursor_on_a_tags_calibrations_is_a_400(reader_client: APIClient) -> None:
    TagFactory(name="busy")
    cursor = base64.b64encode(b"p=not-a-timestamp").decode()
    response = reader_client.get("/api/tags/busy/calibrations", {"cursor": cursor})
    assert response.status_code == 400
