"""`archive_tag` from the command line."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tagging.models import TagAssignment
from tests.factories import TagAssignmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_archive_tag_removes_the_tag_everywhere_and_says_how_many(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tag = TagFactory(name="baseline-2025")
    TagAssignmentFactory.create_batch(3, tag=tag, added_at=timezone.now() - timedelta(days=1))
    call_command("archive_tag", "BASELINE-2025")
    assert "removed from 3 calibration(s)" in capsys.readouterr().out
    assert not TagAssignment.objects.active().exists()
    assert TagAssignment.objects.count() == 3


def test_archive_tag_dry_run_counts_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    tag = TagFactory(name="t")
    TagAssignmentFactory.create_batch(2, tag=tag)
    call_command("archive_tag", "t", "--dry-run")
    assert "would remove 't' from 2" in capsys.readouterr().out
    assert TagAssignment.objects.active().count() == 2


@pytest.mark.parametrize(
    ("name", "message"), [("nope", "Unknown tag"), ("a/b", "Invalid tag name")]
)
def test_archive_tag_refuses_an_unknown_or_invalid_tag(name: str, message: str) -> None:
    TagAssignmentFactory(tag=TagFactory(name="kept"))
    with pytest.raises(CommandError, match=message):
        call_command("archive_tag", name)
    assert TagAssignment.objects.active().count() == 1
