"""Every write to tags and their history: the API, the admin and the commands call these."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from config.batches import batched

from .models import Tag, TagAssignment, normalize_tag_name, tag_key


class Tagged(Protocol):
    """What tagging needs of a calibration: its key, and its timestamp (copied on each period)."""

    pk: Any
    timestamp: datetime


class TagNotActiveError(Exception):
    """The calibration does not carry that tag now."""

    def __init__(self, calibration: Tagged, name: str) -> None:
        super().__init__(f"Calibration {calibration.pk} does not carry the tag '{name}'.")
        self.calibration = calibration
        self.name = name


@dataclass(frozen=True)
class TagAddResult:
    """The active assignment after an add, and whether the add created it."""

    assignment: TagAssignment
    created: bool


def tag_get_or_create(*, name: str) -> Tag:
    """The tag of that name (any case), created with this spelling if it is new."""
    clean = normalize_tag_name(name)
    # get_or_create retries the lookup when a concurrent insert wins the unique index.
    tag, _ = Tag.objects.get_or_create(name_key=tag_key(clean), defaults={"name": clean})
    return tag


def _lock(calibration: Tagged) -> None:
    # Serialises tag changes on one calibration, so "now" is taken in commit order and
    # a reader of the active assignment sees the last writer's result. The model is the one
    # the foreign key names: tagging imports no calibrations code.
    tagged = TagAssignment._meta.get_field("calibration").related_model
    assert not isinstance(tagged, str)  # resolved when the apps were loaded
    tagged._default_manager.select_for_update().filter(pk=calibration.pk).values_list("pk").first()


@transaction.atomic
def tags_add(
    *, calibration: Tagged, names: Iterable[str], user: User | None, at: datetime | None = None
) -> list[TagAddResult]:
    """Add each named tag to the calibration unless it already carries it; keep history.

    The periods open now, or `at` for the tags a calibration is created with (its
    `created_at`, so it carries them from the instant it exists: DESIGN §4.2)."""
    wanted: dict[str, str] = {}
    for raw in names:
        clean = normalize_tag_name(raw)
        wanted.setdefault(tag_key(clean), clean)
    # Creating new tags in a fixed order keeps two writers from deadlocking on the index.
    tags = {key: tag_get_or_create(name=wanted[key]) for key in sorted(wanted)}
    _lock(calibration)
    # In batches: an import row or the console's *Add tags* may name any number of tags.
    active = {
        a.tag_id: a
        for batch in batched(tags.values())
        for a in TagAssignment.objects.active()
        .filter(calibration_id=calibration.pk, tag__in=batch)
        .select_related("tag", "added_by", "removed_by")
    }
    results = []
    now = at or timezone.now()
    for key in wanted:
        tag = tags[key]
        if tag.pk in active:
            results.append(TagAddResult(active[tag.pk], created=False))
            continue
        try:
            with transaction.atomic():
                assignment = TagAssignment.objects.create(
                    calibration_id=calibration.pk,
                    tag=tag,
                    added_at=now,
                    added_by=user,
                    calibration_timestamp=calibration.timestamp,
                )
        except IntegrityError:
            # Lost a race against a writer that does not lock (e.g. SQLite): theirs stands.
            existing = (
                TagAssignment.objects.active()
                .select_related("tag", "added_by")
                .get(calibration_id=calibration.pk, tag=tag)
            )
            results.append(TagAddResult(existing, created=False))
            continue
        results.append(TagAddResult(assignment, created=True))
    return results


@transaction.atomic
def tag_remove(*, calibration: Tagged, name: str, user: User | None) -> TagAssignment:
    """Close the calibration's active assignment of the tag; raise TagNotActiveError if none."""
    try:
        clean = normalize_tag_name(name)
    except ValidationError:
        raise TagNotActiveError(calibration, str(name)) from None
    _lock(calibration)
    assignment = (
        TagAssignment.objects.select_for_update(of=("self",))
        .active()
        .filter(calibration_id=calibration.pk, tag__in=Tag.objects.named(clean))
        .select_related("tag", "added_by")
        .first()
    )
    if assignment is None:
        raise TagNotActiveError(calibration, clean)
    # Never before added_at, even if the clock stepped back since.
    assignment.removed_at = max(timezone.now(), assignment.added_at)
    assignment.removed_by = user
    assignment.save(update_fields=["removed_at", "removed_by"])
    return assignment


@transaction.atomic
def tag_archive(*, tag: Tag, user: User | None) -> int:
    """Remove the tag now from every calibration that carries it; the history stays."""
    return (
        TagAssignment.objects.active()
        .filter(tag=tag)
        .update(removed_at=Greatest(Value(timezone.now()), F("added_at")), removed_by=user)
    )


def tag_periods_follow_timestamp(*, calibration: Tagged) -> None:
    """Keep the periods' copy of the calibration's timestamp equal to it; the correction
    service calls this in its transaction when a correction moves the timestamp."""
    TagAssignment.objects.filter(calibration_id=calibration.pk).update(
        calibration_timestamp=calibration.timestamp
    )
