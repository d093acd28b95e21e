"""Reads of calibrations by the tags they carried at an instant (tag history's as-of rule), and
of the instruments that need a person."""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Case, DateTimeField, Exists, F, OuterRef, Q, QuerySet, When

from config.batches import batched
from tagging.models import Tag, TagAssignment, in_force_at

from .models import (
    NEEDS_ATTENTION,
    Calibration,
    Instrument,
    InstrumentQuerySet,
    InstrumentStatus,
    status_filter,
)


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


def instruments_needing_attention(*, at: datetime, within: timedelta) -> InstrumentQuerySet:
    """The instruments a person must see to at `at`: out of tolerance, overdue, or due within
    `within`, each with `needed_since` (when it began to need it: the calibration that found it
    out of tolerance, else its due date), soonest first, then by id."""
    needing = Q()
    for status in NEEDS_ATTENTION:
        needing |= status_filter(status, now=at, due_soon=within)
    rows = Instrument.objects.with_status(now=at, due_soon=within).filter(needing)
    return rows.annotate(
        needed_since=Case(
            When(status=InstrumentStatus.OUT_OF_TOLERANCE, then=F("last_calibration_timestamp")),
            default=F("due_at"),
            output_field=DateTimeField(),
        )
    ).order_by("needed_since", "instrument_id")


@dataclass(frozen=True)
class FlaggedPeriod:
    """A span during which an instrument was overdue or out of tolerance, by its calibrations as
    recorded now: what `Instrument.objects.with_status_as_of(at=T)` says for every T in it."""

    instrument_id: str
    status: str  # InstrumentStatus.OVERDUE or InstrumentStatus.OUT_OF_TOLERANCE
    start: datetime  # the out-of-tolerance calibration's timestamp, or the due date
    end: datetime | None  # the next calibration, or retirement; None: still so
    calibration_id: uuid.UUID  # the calibration it follows from

    def covers(self, instant: datetime) -> bool:
        """Whether the instrument was so at `instant` (overdue only after its due date)."""
        if self.end is not None and instant >= self.end:
            return False
        if self.status == InstrumentStatus.OVERDUE:
            return instant > self.start
        return instant >= self.start


def flagged_periods(
    instrument_ids: Iterable[str], *, until: datetime
) -> dict[str, list[FlaggedPeriod]]:
    """Each instrument's spans overdue or out of tolerance up to `until`, oldest first, in two
    queries (the instruments, their calibrations done by then)."""
    wanted = sorted(set(instrument_ids))
    periods: dict[str, list[FlaggedPeriod]] = {pk: [] for pk in wanted}
    if not wanted:
        return periods
    instruments = {
        pk: (interval, retired)
        for batch in batched(wanted)
        for pk, interval, retired in Instrument.objects.filter(pk__in=batch).values_list(
            "pk", "calibration_interval_days", "retired_at"
        )
    }
    done: dict[str, list[tuple[uuid.UUID, datetime, bool | None]]] = {pk: [] for pk in wanted}
    for batch in batched(wanted):
        rows = (
            Calibration.objects.filter(instrument_id__in=batch, timestamp__lte=until)
            .order_by("instrument_id", "timestamp", "created_at")
            .values_list("instrument_id", "pk", "timestamp", "in_tolerance")
        )
        for instrument_id, pk, timestamp, judged in rows:
            done[instrument_id].append((pk, timestamp, judged))
    for instrument_id, calibrations in done.items():
        interval, retired = instruments.get(instrument_id, (None, None))
        for index, (calibration_id, timestamp, judged) in enumerate(calibrations):
            following = calibrations[index + 1][1] if index + 1 < len(calibrations) else None
            ends = [t for t in (following, retired) if t is not None]
            end = min(ends) if ends else None
            if judged is False:
                start: datetime | None = timestamp
                status = InstrumentStatus.OUT_OF_TOLERANCE
            elif interval is not None:
                start = _plus_days(timestamp, interval)
                status = InstrumentStatus.OVERDUE
            else:
                start = None
            if start is not None and start <= until and (end is None or start < end):
                periods[instrument_id].append(
                    FlaggedPeriod(instrument_id, status, start, end, calibration_id)
                )
    return periods


def _plus_days(instant: datetime, days: int) -> datetime | None:
    try:
        return instant + timedelta(days=days)
    except OverflowError:  # past the year 9999: never due (as `AddDays` in SQL)
        return None
