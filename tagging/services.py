"""Every write to tags and their history: the API, the admin and the commands call these."""

import uuid
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from calibrations.models import Calibration, CalibrationType
from calibrations.services import calibration_create

from .models import Tag, TagAssignment, normalize_tag_name, tag_sort_key


class TagNotActiveError(Exception):
    """The calibration does not carry that tag now."""

    def __init__(self, calibration: Calibration, name: str) -> None:
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
    tag, _ = Tag.objects.get_or_create(name__iexact=clean, defaults={"name": clean})
    return tag


def _lock(calibration: Calibration) -> None:
    # Serialises tag changes on one calibration, so "now" is taken in commit order and
    # a reader of the active assignment sees the last writer's result.
    Calibration.objects.select_for_update().filter(pk=calibration.pk).values_list("pk").first()


@transaction.atomic
def tags_add(
    *, calibration: Calibration, names: Iterable[str], user: User | None
) -> list[TagAddResult]:
    """Add each named tag to the calibration unless it already carries it; keep history."""
    wanted: dict[str, str] = {}
    for raw in names:
        clean = normalize_tag_name(raw)
        wanted.setdefault(clean.upper(), clean)
    # Creating new tags in a fixed order keeps two writers from deadlocking on the index.
    tags = {key: tag_get_or_create(name=wanted[key]) for key in sorted(wanted)}
    _lock(calibration)
    active = {
        a.tag_id: a
        for a in TagAssignment.objects.active()
        .filter(calibration=calibration, tag__in=list(tags.values()))
        .select_related("tag", "added_by", "removed_by")
    }
    results = []
    now = timezone.now()
    for key in wanted:
        tag = tags[key]
        if tag.pk in active:
            results.append(TagAddResult(active[tag.pk], created=False))
            continue
        try:
            with transaction.atomic():
                assignment = TagAssignment.objects.create(
                    calibration=calibration,
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
                .get(calibration=calibration, tag=tag)
            )
            results.append(TagAddResult(existing, created=False))
            continue
        results.append(TagAddResult(assignment, created=True))
    return results


def tag_add(*, calibration: Calibration, name: str, user: User | None) -> TagAddResult:
    """Add one tag to a calibration (see `tags_add`)."""
    return tags_add(calibration=calibration, names=[name], user=user)[0]


@transaction.atomic
def tag_remove(*, calibration: Calibration, name: str, user: User | None) -> TagAssignment:
    """Close the calibration's active assignment of the tag; raise TagNotActiveError if none."""
    try:
        clean = normalize_tag_name(name)
    except ValidationError:
        raise TagNotActiveError(calibration, str(name)) from None
    _lock(calibration)
    assignment = (
        TagAssignment.objects.select_for_update(of=("self",))
        .active()
        .filter(calibration=calibration, tag__in=Tag.objects.named(clean))
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


@dataclass(frozen=True)
class TaggedCalibration:
    """A calibration just recorded, and the names of the tags it carries now, sorted."""

    calibration: Calibration
    tag_names: list[str]


def calibration_create_tagged(
    *,
    calibration_type: CalibrationType,
    value: float,
    username: str,
    timestamp: datetime | None = None,
    created_by: User | None = None,
    tags: Sequence[str] = (),
    calibration_id: uuid.UUID | None = None,
) -> TaggedCalibration:
    """Record a calibration (`calibration_create`) and add its first tags, in one transaction."""
    # Without tags `calibration_create` is the only transaction: no savepoint inside another.
    with transaction.atomic() if tags else nullcontext():
        calibration = calibration_create(
            calibration_type=calibration_type,
            value=value,
            username=username,
            timestamp=timestamp,
            created_by=created_by,
            calibration_id=calibration_id,
        )
        results = tags_add(calibration=calibration, names=tags, user=created_by) if tags else []
    names = {result.assignment.tag.name for result in results}
    return TaggedCalibration(calibration, sorted(names, key=tag_sort_key))
