"""The report of `manage.py room_report`: per room, over a window, the figures of the average
routes (every method) and of the excursions route."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import Measurement, Room
from .selectors import (
    excursions,
    mkt_summary,
    range_in_force,
    range_versions_covering,
    time_weighted_summary,
)


@dataclass(frozen=True)
class RoomReport:
    """One room over a window: the range in force at its end, its readings' statistics, and
    its excursions (°C)."""

    room_id: str
    name: str
    min_c: float | None
    max_c: float | None
    readings: int
    mean: float | None
    time_weighted: float | None
    mkt: float | None
    low: float | None
    high: float | None
    excursions: int
    # Of those, the runs that had begun before the window (their time outside counts from
    # the window's start only).
    started_before: int
    time_outside: timedelta
    # Whether a range was in force at some instant of the window (else nothing was judged).
    judged: bool


def room_report(room: Room, start: datetime, end: datetime) -> RoomReport:
    """`room` over `[start, end]`: the figures of the average routes (mean, time-weighted, MKT
    with the default activation energy) and of the excursions route, each reading judged by
    the range in force at it; time outside sums each excursion until its end, or `end` if
    ongoing, from its first reading in the window."""
    summary = Measurement.objects.window(room, start, end).summary()
    weighted = time_weighted_summary(room, start, end)
    kinetic = mkt_summary(room, start, end)
    found = excursions(room, start, end)
    versions = range_versions_covering(room, start, end)
    in_force = range_in_force(versions, end)
    return RoomReport(
        room_id=room.room_id,
        name=room.name,
        min_c=None if in_force is None else in_force.min_c,
        max_c=None if in_force is None else in_force.max_c,
        readings=summary["count"],
        mean=summary["average"],
        time_weighted=weighted["average"],
        mkt=kinetic["average"],
        low=summary["min"],
        high=summary["max"],
        excursions=len(found),
        started_before=sum(1 for e in found if e.started_before),
        time_outside=sum((e.duration(end) for e in found), timedelta(0)),
        judged=any(v.min_c is not None for v in versions),
    )
