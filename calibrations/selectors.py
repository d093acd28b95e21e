"""Reads of calibrations by the tags they carried at an instant (tag history's as-of rule)."""

from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from tagging.models import Tag, TagAssignment, in_force_at

from .models import Calibration


def calibrations_carrying(
    tags: Tag | QuerySet[Tag],
    *,
    as_of: datetime,
    calibrations: QuerySet[Calibration] | None = None,
) -> QuerySet[Calibration]:
    """The calibrations (of `calibrations`, default all) that carried the tag, or one of the
    tags, at the instant `as_of`."""
    assignments = TagAssignment.objects.as_of(as_of).filter(calibration_id=OuterRef("pk"))
    if isinstance(tags, Tag):
        assignments = assignments.filter(tag=tags)
    else:
        assignments = assignments.filter(tag__in=tags)
    base = Calibration.objects.all() if calibrations is None else calibrations
    return base.filter(Exists(assignments))


def calibrations_tagged(
    tag: Tag, *, as_of: datetime, calibrations: QuerySet[Calibration] | None = None
) -> QuerySet[Calibration]:
    """The calibrations that carried `tag` at `as_of`, annotated `tagged_timestamp`.

    Same rows as `calibrations_carrying(tag, as_of=…)` (a calibration's periods of one tag
    never overlap, so one period matches), joined to the matching period instead of tested with
    EXISTS. `tagged_timestamp` is the period's copy of the calibration's `timestamp`: ordering by
    it (then `-pk`) is the newest-first order, read straight from the index
    `tagassignment_tag_cal_ts_idx`, so a page costs its own rows, not every match.
    """
    base = Calibration.objects.all() if calibrations is None else calibrations
    # One filter() call: the tag and the as-of rule apply to the same period (the same join).
    return base.filter(
        Q(tag_assignments__tag=tag) & in_force_at(as_of, through="tag_assignments__")
    ).annotate(tagged_timestamp=F("tag_assignments__calibration_timestamp"))
