"""A room's readings taken in time order: grouped by instant, and judged by the range in force.

Several sensors of a room may read at one timestamp. Wherever readings are taken in time
order (time-weighted averages, MKT, excursions, status, alarms) the readings of one instant
count as one reading whose value is their mean; what counts or bounds readings (`count`,
`min`, `max`, a run's `readings` and `peak`) still counts and bounds the stored ones
(DESIGN §4.5 "Readings at one instant").
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.db import connection

from ..models import Measurement, RangeVersion, Room
from .ranges import RANGES_SQL, Kind, range_in_force, range_versions_covering, side_of

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Instant:
    """The readings of one instant (all sensors): `value` is their mean, which counts as one
    reading; `count`, `low` and `high` count and bound the stored readings."""

    at: datetime
    value: float
    count: int
    low: float
    high: float


@dataclass(frozen=True)
class JudgedInstant(Instant):
    """An instant with the range in force at it (`min_c`/`max_c` null: none was)."""

    min_c: float | None
    max_c: float | None

    @property
    def side(self) -> Kind | None:
        """`high`, `low`, or None when inside (a value on a bound is inside) or unjudged."""
        return side_of(self.value, self.min_c, self.max_c)


def room_id_of(room: "Room | str") -> str:
    return room.pk if isinstance(room, Room) else room


def table() -> str:
    return connection.ops.quote_name(Measurement._meta.db_table)


def seconds(delta: timedelta) -> float:
    # Exact integer microseconds first: a float of a long timedelta would round.
    return (delta // _MICROSECOND) / 1_000_000


def instants(room: "Room | str", start: datetime, end: datetime) -> Iterator[Instant]:
    """The readings of `room` in `[start, end]` grouped by instant, oldest first (the portable
    path's reader: one ordered pass over the window's rows)."""
    rows = (
        Measurement.objects.window(room_id_of(room), start, end)
        .order_by("timestamp")
        .values_list("timestamp", "value")
        .iterator()
    )
    for at, group in groupby(rows, key=lambda row: row[0]):
        values = [value for _, value in group]
        yield Instant(at, sum(values) / len(values), len(values), min(values), max(values))


def previous_instant(room: "Room | str", before: datetime) -> Instant | None:
    """The readings of the last instant before `before`, if any."""
    room_id = room_id_of(room)
    at = (
        Measurement.objects.filter(room_id=room_id, timestamp__lt=before)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    if at is None:
        return None
    values = list(
        Measurement.objects.filter(room_id=room_id, timestamp=at).values_list("value", flat=True)
    )
    return Instant(at, sum(values) / len(values), len(values), min(values), max(values))


def judged_instants(
    room: "Room | str",
    *,
    after: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[JudgedInstant]:
    """The readings of `room` with `after < timestamp <= until` (either bound may be None: no
    bound), grouped by instant (their mean is the value judged), oldest first, each with the
    range in force at its timestamp; at most `limit` instants (the oldest), so a caller can
    go through a long backlog batch by batch, continuing after the last instant it got.

    The public face of "judge readings in time order" for other apps (alarms, §4.8): one
    statement on PostgreSQL, the range found in the room's versions (`ranges.RANGES_SQL`).
    """
    room_id = room_id_of(room)
    if connection.vendor == "postgresql":
        return _judged_instants_sql(room_id, after, until, limit)
    readings = Measurement.objects.filter(room_id=room_id)
    if after is not None:
        readings = readings.filter(timestamp__gt=after)
    if until is not None:
        readings = readings.filter(timestamp__lte=until)
    found: list[JudgedInstant] = []
    versions: list[RangeVersion] | None = None
    rows = readings.order_by("timestamp").values_list("timestamp", "value").iterator()
    for at, group in groupby(rows, key=lambda row: row[0]):
        if limit is not None and len(found) >= limit:
            break
        if versions is None:
            versions = range_versions_covering(room_id, at, until)
        values = [value for _, value in group]
        version = range_in_force(versions, at)
        found.append(
            JudgedInstant(
                at,
                sum(values) / len(values),
                len(values),
                min(values),
                max(values),
                None if version is None else version.min_c,
                None if version is None else version.max_c,
            )
        )
    return found


def _judged_instants_sql(
    room_id: str, after: datetime | None, until: datetime | None, limit: int | None
) -> list[JudgedInstant]:
    # The instants come in the unique index's order; each finds its version by a binary
    # search of the versions' stretches (`ranges.RANGES_SQL`).
    index = 'width_bucket("timestamp", (SELECT since FROM ranges))'
    sql = f"""
        WITH {RANGES_SQL}
        SELECT "timestamp", sum(value) / count(*), count(*), min(value), max(value),
               (SELECT lo FROM ranges)[{index}], (SELECT hi FROM ranges)[{index}]
        FROM {table()}
        WHERE room_id = %(room)s
          AND (%(after)s::timestamptz IS NULL OR "timestamp" > %(after)s)
          AND (%(until)s::timestamptz IS NULL OR "timestamp" <= %(until)s)
        GROUP BY "timestamp"
        ORDER BY "timestamp"
        LIMIT %(limit)s
    """
    params: dict[str, Any] = {"room": room_id, "after": after, "until": until, "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [JudgedInstant(t, v, int(n), lo, hi, low, high) for t, v, n, lo, hi, low, high in rows]
