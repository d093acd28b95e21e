"""The tag invariants are the database's, not only Python's (DESIGN §3): rows written around the
services are refused with `IntegrityError`, on PostgreSQL and on SQLite alike."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from tagging.models import Tag, TagAssignment
from tests.factories import CalibrationFactory, TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_a_second_active_period_of_the_same_tag_on_a_calibration_is_refused() -> None:
    first = TagAssignmentFactory()
    # PostgreSQL names the index; SQLite names the columns of a partial unique index.
    refused = "tagging_tagassignment_one_active|tagging_tagassignment.calibration_id"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        TagAssignment.objects.create(
            calibration=first.calibration,
            tag=first.tag,
            added_at=first.added_at,
            calibration_timestamp=first.calibration.timestamp,
        )
    assert TagAssignment.objects.count() == 1


def test_a_new_period_may_open_once_the_previous_one_is_closed() -> None:
    closed = TagAssignmentFactory(closed=True)
    TagAssignment.objects.create(
        calibration=closed.calibration,
        tag=closed.tag,
        added_at=closed.removed_at,
        calibration_timestamp=closed.calibration.timestamp,
    )
    assert TagAssignment.objects.filter(tag=closed.tag).count() == 2


def test_the_same_tag_may_be_active_on_two_calibrations() -> None:
    tag = TagFactory()
    TagAssignmentFactory(tag=tag)
    TagAssignmentFactory(tag=tag, calibration=CalibrationFactory())
    assert TagAssignment.objects.active().filter(tag=tag).count() == 2


def test_a_period_removed_before_it_was_added_is_refused() -> None:
    period = TagAssignmentFactory()
    period.removed_at = period.added_at - timedelta(microseconds=1)
    with (
        pytest.raises(IntegrityError, match="tagging_tagassignment_removed_after_added"),
        transaction.atomic(),
    ):
        period.save()
    period.refresh_from_db()
    assert period.removed_at is None


def test_a_period_removed_at_the_instant_it_was_added_is_allowed() -> None:
    period = TagAssignmentFactory()
    period.removed_at = period.added_at
    period.save()
    period.refresh_from_db()
    assert period.removed_at == period.added_at


@pytest.mark.parametrize("spelling", ["BASELINE-2025", "baseline-2025", "Baseline-2025"])
def test_a_tag_name_differing_only_in_case_is_refused(spelling: str) -> None:
    Tag.objects.create(name="Baseline-2025")
    # PostgreSQL names the constraint; SQLite names the column of a unique constraint.
    refused = r"tagging_tag_name_unique_ci|tagging_tag\.name_key"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        Tag.objects.create(name=spelling)
    assert list(Tag.objects.values_list("name", flat=True)) == ["Baseline-2025"]
