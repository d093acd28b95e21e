"""Excursions: runs of a room's readings outside its acceptable range (DESIGN §4.5), each
instant judged by the range in force at it (`ranges`), one instant counting as one reading.

On PostgreSQL one statement: the window's instants in the unique index's order, each judged by
the range in force at it (`ranges.RANGES_SQL`), and one ordered window pass that finds the
runs. Elsewhere the same walk in Python (`_runs`), which the tests hold the SQL to.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

from ..models import EPOCH, RangeVersion, Room
from .instants import Instant, instants, previous_instant, room_id_of, table
from .ranges import RANGES_SQL, Kind, range_in_force, range_versions_covering, side_of, side_sql


@dataclass(frozen=True)
class Excursion:
    """A maximal run of consecutive instants on one side of a room's range (°C)."""

    kind: Kind
    start: datetime
    # The first instant after the run inside the window; None while it is still going on.
    end: datetime | None
    # The run's highest (high) or lowest (low) stored reading, and how many it holds.
    peak: float
    readings: int
    # The instant just before the window was outside on the same side: the run began earlier
    # (`start` is still its first instant inside the window).
    started_before: bool = False

    def duration(self, window_end: datetime) -> timedelta:
        """How long the room was outside: until `end`, or until `window_end` while ongoing."""
        return (self.end or window_end) - self.start


def excursions(room: "Room | str", start: datetime, end: datetime) -> list[Excursion]:
    """Maximal runs of consecutive instants of `room` in `[start, end]` (all sensors merged, an
    instant's readings by their mean) outside the range in force at each, on one side, oldest
    first. A value exactly on a bound is inside; an instant with no range in force is inside."""
    room_id = room_id_of(room)
    if connection.vendor == "postgresql":
        return _excursions_sql(room_id, start, end)
    previous = previous_instant(room_id, start)
    versions = range_versions_covering(room_id, previous.at if previous else start, end)
    return list(_runs(instants(room_id, start, end), versions, previous))


def _side(instant: Instant, versions: Sequence[RangeVersion]) -> Kind | None:
    version = range_in_force(versions, instant.at)
    return None if version is None else side_of(instant.value, version.min_c, version.max_c)


def _runs(
    steps: Iterable[Instant], versions: Sequence[RangeVersion], previous: Instant | None = None
) -> Iterator[Excursion]:
    before = None if previous is None else _side(previous, versions)
    kind: Kind | None = None
    first: datetime | None = None
    peak = 0.0
    count = 0
    began_before = False
    for index, step in enumerate(steps):
        side = _side(step, versions)
        if side != kind and kind is not None and first is not None:
            yield Excursion(kind, first, step.at, peak, count, began_before)
        if side is not None and side != kind:
            first, peak, count = step.at, step.high if side == "high" else step.low, 0
            began_before = index == 0 and side == before
        if side is not None:
            peak = max(peak, step.high) if side == "high" else min(peak, step.low)
            count += step.count
        kind = side
    if kind is not None and first is not None:
        yield Excursion(kind, first, None, peak, count, began_before)


def _excursions_sql(room_id: str, start: datetime, end: datetime) -> list[Excursion]:
    # Gaps and islands in one ordered pass (window functions cost per row and per pass, and a
    # week is thousands of instants): `not_low` counts the instants so far that are not low,
    # so it stays constant along a run of low instants and grows between two such runs;
    # `not_high` likewise. A run is then a group of (side, that count). `next_t` is the next
    # instant (null for the window's last, so a run reaching the end has no end). A run that
    # starts at the window's first instant began before the window when the instant before it
    # (`before`) was outside on the same side.
    #
    # `steps` groups the unique index's range scan by timestamp, in its order, so the window
    # needs no sort; each instant's side is computed there, once (`ranges.side_sql`), with its
    # peak candidate (its warmest or coldest reading). ROWS, not the default RANGE frame,
    # spares PostgreSQL looking for peers; `count(*)::int` keeps the sum of readings an
    # integer sum (a sum of bigints is numeric). The instants come back as integer
    # microseconds since the epoch (exact: `extract` is a numeric since PostgreSQL 14):
    # cheaper than Django's converter.
    mean = "sum(value) / count(*)"
    sql = f"""
        WITH {RANGES_SQL}, steps AS (
            SELECT "timestamp" AS t, count(*)::int AS n, {side_sql(mean, '"timestamp"')} AS side,
                   min(value) AS lo, max(value) AS hi
            FROM {table()}
            WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s
              -- A room that never had a range has no excursions: nothing to read.
              AND (SELECT inner_lo FROM ranges) IS NOT NULL
            GROUP BY "timestamp"
        ), before AS (
            SELECT {side_sql(mean, '"timestamp"')} AS side
            FROM {table()}
            WHERE room_id = %(room)s AND "timestamp" = (
                SELECT max("timestamp") FROM {table()}
                WHERE room_id = %(room)s AND "timestamp" < %(start)s
            )
            GROUP BY "timestamp"
        ), marked AS (
            SELECT t, n, side, CASE WHEN side > 0 THEN hi ELSE lo END AS peak,
                   lead(t) OVER w AS next_t,
                   count(*) FILTER (WHERE side >= 0) OVER w AS not_low,
                   count(*) FILTER (WHERE side <= 0) OVER w AS not_high
            FROM steps
            WINDOW w AS (ORDER BY t ROWS UNBOUNDED PRECEDING)
        )
        SELECT side, (extract(epoch FROM min(t)) * 1000000)::bigint,
               (extract(epoch FROM CASE WHEN count(next_t) = count(*) THEN max(next_t) END)
                   * 1000000)::bigint,
               CASE WHEN side > 0 THEN max(peak) ELSE min(peak) END,
               sum(n),
               COALESCE(
                   min(t) = (
                       SELECT min("timestamp") FROM {table()}
                       WHERE room_id = %(room)s AND "timestamp" >= %(start)s
                   ) AND side = (SELECT side FROM before),
                   false
               )
        FROM marked
        WHERE side <> 0
        GROUP BY side, CASE WHEN side > 0 THEN not_high ELSE not_low END
        ORDER BY min(t)
    """
    params: dict[str, Any] = {"room": room_id, "start": start, "end": end}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Excursion(
            "high" if side > 0 else "low",
            EPOCH + timedelta(microseconds=first),
            None if after is None else EPOCH + timedelta(microseconds=after),
            peak,
            int(count),
            bool(began),
        )
        for side, first, after, peak, count, began in rows
    ]
