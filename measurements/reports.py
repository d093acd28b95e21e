"""The report of `manage.py room_report`: per room, over a window, the figures of the average
routes (both methods) and of the excursions route."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from .models import Measurement, Room
from .selectors import excursions, time_weighted_summary


@dataclass(frozen=True)
class RoomReport:
    """One room over a window: its range, its readings' statistics, and its excursions (°C)."""

    room_id: str
    name: str
    min_c: float | None
    max_c: float | None
    readings: int
    mean: float | None
    time_weighted: float | None
    low: float | None
    high: float | None
    excursions: int
    time_outside: timedelta


def room_report(room: Room, start: datetime, end: datetime) -> RoomReport:
    """`room` over `[start, end]`: the figures of the average routes (both methods) and of the
    excursions route; time outside sums each excursion until its end, or `end` if ongoing."""
    summary = Measurement.objects.window(room, start, end).summary()
    weighted = time_weighted_summary(room, start, end)
    found = excursions(room, start, end, room.min_c, room.max_c)
    return RoomReport(
        room_id=room.room_id,
        name=room.name,
        min_c=room.min_c,
        max_c=room.max_c,
        readings=summary["count"],
        mean=summary["average"],
        time_weighted=weighted["average"],
        low=summary["min"],
        high=summary["max"],
        excursions=len(found),
        time_outside=sum((e.duration(end) for e in found), timedelta(0)),
    )
