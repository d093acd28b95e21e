"""Reads that join the two halves: which instrument took a reading, and what a device found out
of tolerance measured since its last good calibration (its impact, DESIGN §4.7)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import (
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.utils import timezone

from calibrations.models import Calibration, Instrument
from config.planner import planner_settings
from measurements.models import Measurement, Room
from measurements.selectors import Excursion, excursions
from measurements.status import RoomSubquery

from .models import Alarm, Placement, placed_at_instant


class OpenAlarms(RoomSubquery):
    """How many alarms of the row's room are open (`Alarm.objects.open()`: active, or not yet
    acknowledged), in the rooms query: a count on the partial index `alarm_open_idx`, whose
    condition this repeats."""

    def __init__(self) -> None:
        super().__init__(IntegerField())

    def room_sql(self, room: str, quote: Callable[[str], str]) -> str:
        return (
            f"(SELECT COUNT(*) FROM {quote(Alarm._meta.db_table)} a "
            f"WHERE a.{quote('room_id')} = {room} "
            f"AND (a.{quote('cleared_at')} IS NULL OR a.{quote('acknowledged_at')} IS NULL))"
        )


def with_instrument(readings: QuerySet[Measurement]) -> QuerySet[Measurement]:
    """Readings annotated with `instrument_id`: the instrument placed as their (room, sensor) at
    their instant (null when none), in the same query (one index probe per reading)."""
    placed = Placement.objects.filter(
        placed_at_instant(OuterRef("timestamp")),
        room_id=OuterRef("room_id"),
        sensor=OuterRef("sensor"),
    ).order_by("-placed_at")
    return readings.annotate(
        instrument_id=Subquery(placed.values("instrument_id")[:1], output_field=CharField())
    )


def room_excursions(room: Room, start: datetime, end: datetime) -> list[Excursion]:
    """The room's excursions in `[start, end]`, as measurements judges them (each reading by
    the range in force at its time)."""
    return excursions(room, start, end)


class NotAssessable(Exception):
    """A calibration whose impact there is none to report (in tolerance, unassessed, or with
    no instrument): the API answers 409 with this message."""


@dataclass(frozen=True)
class PlacementImpact:
    """What an instrument measured in one placement, clipped to the impact's window."""

    placement: Placement
    start: datetime
    end: datetime
    # Whether a reading at `end` is the instrument's: not when the placement ended there.
    end_inclusive: bool
    readings: int
    excursions: list[Excursion]


@dataclass(frozen=True)
class Impact:
    """The readings a device found out of tolerance took since its last good calibration."""

    calibration: Calibration
    start: datetime | None
    end: datetime
    placements: list[PlacementImpact]
    # The alarms of those rooms that overlap the time the instrument was placed in them.
    alarms: list[Alarm] = field(default_factory=list)

    @property
    def readings(self) -> int:
        return sum(p.readings for p in self.placements)


def impact_window_start(calibration: Calibration) -> datetime | None:
    """Where the impact of `calibration` begins: its instrument's previous calibration (by
    timestamp, ties by when it was recorded) that was not out of tolerance, or else its first
    placement; None when it has neither (it never measured a room)."""
    previous = (
        Calibration.objects.filter(instrument_id=calibration.instrument_id)
        .filter(
            Q(timestamp__lt=calibration.timestamp)
            | Q(timestamp=calibration.timestamp, created_at__lt=calibration.created_at)
        )
        .exclude(in_tolerance=False)
        .order_by("-timestamp", "-created_at")
        .values_list("timestamp", flat=True)
        .first()
    )
    if previous is not None:
        return previous
    first: datetime | None = (
        Placement.objects.filter(instrument_id=calibration.instrument_id)
        .order_by("placed_at")
        .values_list("placed_at", flat=True)
        .first()
    )
    return first


def calibration_impact(calibration: Calibration) -> Impact:
    """The impact of an out-of-tolerance calibration (ISO/IEC 17025 7.10): the window from its
    instrument's last good calibration (or first placement) to its own timestamp, and per
    placement in it, clipped, the readings the instrument took (both ends inclusive) and the
    excursions of the room. NotAssessable for a calibration in tolerance, unassessed or without
    an instrument.

    Statements: the window's start, the placements, one for every placement's count (a UNION
    ALL of index-only counts), one for the alarms of all of them, then one per placement for
    the room's excursions.
    """
    if calibration.instrument_id is None:
        raise NotAssessable("This calibration names no instrument: there is no impact to trace.")
    if calibration.in_tolerance is None:
        raise NotAssessable(
            "This calibration was not assessed (its type had no tolerance limits when it was "
            "written): there is no impact to trace."
        )
    if calibration.in_tolerance:
        raise NotAssessable("This calibration is in tolerance: there is no impact to trace.")
    end = calibration.timestamp
    start = impact_window_start(calibration)
    if start is None or start > end:
        return Impact(calibration, start, end, [])
    placements = list(
        Placement.objects.filter(instrument_id=calibration.instrument_id, placed_at__lte=end)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=start))
        .select_related("room")
        .order_by("placed_at", "id")
    )
    clipped = [_clipped(p, start, end) for p in placements]
    counts = _reading_counts(clipped)
    return Impact(
        calibration,
        start,
        end,
        alarms=_alarms_overlapping(clipped),
        placements=[
            PlacementImpact(
                placement=placement,
                start=low,
                end=high,
                end_inclusive=inclusive,
                readings=counts[index],
                excursions=room_excursions(placement.room, low, high),
            )
            for index, (placement, low, high, inclusive) in enumerate(clipped)
        ],
    )


def _clipped(
    placement: Placement, start: datetime, end: datetime
) -> tuple[Placement, datetime, datetime, bool]:
    low = max(placement.placed_at, start)
    if placement.removed_at is not None and placement.removed_at <= end:
        # At its `removed_at` the (room, sensor) is no longer the instrument's (the as-of rule).
        return placement, low, placement.removed_at, False
    return placement, low, end, True


def _alarms_overlapping(clipped: list[tuple[Placement, datetime, datetime, bool]]) -> list[Alarm]:
    """The alarms of each placement's room whose time (opened, until cleared or still on)
    overlaps the placement's clipped period, oldest first, each once (one statement)."""
    if not clipped:
        return []
    overlap = Q()
    for placement, low, high, _ in clipped:
        overlap |= Q(room_id=placement.room_id, opened_at__lte=high) & (
            Q(cleared_at__isnull=True) | Q(cleared_at__gte=low)
        )
    return list(Alarm.objects.filter(overlap).order_by("opened_at", "id"))


def _reading_counts(clipped: list[tuple[Placement, datetime, datetime, bool]]) -> list[int]:
    """How many readings the instrument took in each clipped placement, in one statement."""
    if not clipped:
        return []
    parts: list[QuerySet[Any]] = []
    for index, (placement, low, high, inclusive) in enumerate(clipped):
        until = Q(timestamp__lte=high) if inclusive else Q(timestamp__lt=high)
        # A range over the unique index (room, timestamp, sensor), read index-only.
        parts.append(
            Measurement.objects.filter(
                until, room_id=placement.room_id, sensor=placement.sensor, timestamp__gte=low
            )
            .order_by()
            .annotate(part=Value(index))
            .values("part")
            .annotate(n=Count("*"))
            .values_list("part", "n")
        )
    # Planned for these windows: prepared, a generic plan counted a year's 500,000 readings by
    # a parallel sequential scan, 75 ms against 44 (bench/instruments.py).
    with planner_settings(plan_cache_mode="force_custom_plan"):
        found = dict(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else dict(parts[0])
    return [int(found.get(index, 0)) for index in range(len(clipped))]


def placements_with_status(
    placements: QuerySet[Placement], *, at: datetime | None, due_soon: Any
) -> QuerySet[Placement]:
    """Placements annotated with their instrument's `instrument_status` and
    `instrument_due_at` at `at` (None: now, as the register shows them), in the same query."""
    # The names below are the annotations', which the type checker cannot see.
    instruments = (
        Instrument.objects.with_status(now=timezone.now(), due_soon=due_soon)
        if at is None
        else Instrument.objects.with_status_as_of(at=at, due_soon=due_soon)
    )
    instrument: QuerySet[Any] = instruments.filter(pk=OuterRef("instrument_id"))
    return placements.annotate(
        instrument_status=Subquery(instrument.values("status")[:1]),
        instrument_due_at=Subquery(instrument.values("due_at")[:1]),
    )
