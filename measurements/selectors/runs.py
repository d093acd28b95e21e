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

from config.planner import planner_settings

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


# A reading this close to the inner band still makes its instant a candidate: the mean of an
# instant's readings is a float, and may round past a bound that none of its readings crosses
# (seven readings of 15.100000000000001 average 15.099999999999998; the error is at most about
# n × 1.1e-16 × the largest |reading| for n readings at an instant: 1e-6 °C covers thousands of
# sensors at the plausibility bound). It costs a probe per such instant, nothing else.
_MARGIN_C = 1e-6
# Probing a candidate instant (its readings, then the next instant) costs about as much as
# grouping and walking six to eight instants in one pass: a window holding fewer readings than
# this many per candidate is walked whole instead (DENSE below).
_READINGS_PER_PROBE = 8
# A window of up to this many readings is walked whole without looking for candidates: at
# most ~10 ms here, and finding out whether probing would be cheaper costs a filtered scan of
# the window, as much as probing could save on a week (a week at 90 s is 6,720 readings).
_WALK_WHOLE_UP_TO = 10_000
# A window up to this long is walked whole by a statement without the other way, in one round
# trip (no transaction for `SET LOCAL jit`): a week's excursions, the routes' common window,
# cost 6.1–6.6 ms of statement that way against 8.0–8.4 ms with both ways planned and chosen
# between. Longer windows (an impact's, a report's month) take the statement with both.
_PROBED_AFTER = timedelta(days=8)


def _excursions_sql(room_id: str, start: datetime, end: datetime) -> list[Excursion]:
    # An instant whose mean is outside the range in force has a reading outside the inner band
    # (inside every range the room had: `ranges.RANGES_SQL`). So `candidates` is the unique
    # index's range scan over the window with a filter on the value it covers: index-only,
    # nothing grouped, a few hundred microseconds per 10,000 readings. A window longer than
    # _PROBED_AFTER goes two ways on from there, both in one statement, one skipped by a
    # one-time filter; a shorter one only walks (DENSE), in a statement of its own:
    #
    # SPARSE, most windows of a room in control (an impact's year: ~7,000 of 500,000 readings
    # outside): each candidate judged by its whole instant (every sensor's reading: an index
    # probe) and the range in force at it (`ranges.side_sql`), those inside dropped. Two
    # outside instants on one side are in one run iff no instant lies between them, i.e. the
    # first one's next instant (`next_t`, an index probe: min(timestamp) > t within the window;
    # null past its end) is the second; a run begins at every outside instant that does not
    # continue the one before it, and `run` counts those beginnings. Cost: the scan, and two
    # probes per outside instant.
    #
    # DENSE, a window with fewer than _READINGS_PER_PROBE readings per candidate (the bench's
    # generated rooms are outside 59 % of the time): the window's instants grouped in the
    # index's order and judged (`steps`), then cut where the side changes (`segments`: an
    # instant whose side differs from the one before it starts a segment, which lasts until
    # the next one starts, `next_t`, null for the window's last). Each segment outside is a
    # run (`run` numbers them, one group each below), and its readings and peak are read off
    # the index between its start and `next_t`.
    # `lag` and `lead` are plain window functions: the running counts this walk used before
    # (a group per run of (side, count of instants not on that side so far)) were window
    # aggregates, which PostgreSQL advances row by row out of a tuple store, and a week's
    # excursions cost 20 % more that way. Deciding between the ways costs a count of the
    # window's readings stopped at that many per candidate: proportional to the candidates too.
    #
    # Either way a run's end is the `next_t` of its last instant or segment, and a run that
    # starts at the window's first instant began before the window when the instant before it
    # (`before`) was outside on the same side. ROWS, not the default RANGE frame, spares
    # PostgreSQL looking for peers in SPARSE's running count; `count(*)::int` keeps the sum of
    # readings an integer sum.
    # The instants come back as integer microseconds since the epoch (exact: `extract` is a
    # numeric since PostgreSQL 14): cheaper than Django's converter.
    mean = "sum(value) / count(*)"
    window = f"""
        FROM {table()}
        WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s"""
    probed = end - start > _PROBED_AFTER
    finds = f"""
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
        FROM ({"SELECT * FROM dense UNION ALL SELECT * FROM sparse" if probed else "SELECT * FROM dense"})
            AS runs
        GROUP BY side, run
        ORDER BY min(t)
    """
    before = f"""before AS (
            SELECT {side_sql(mean, '"timestamp"')} AS side
            FROM {table()}
            WHERE room_id = %(room)s AND "timestamp" = (
                SELECT max("timestamp") FROM {table()}
                WHERE room_id = %(room)s AND "timestamp" < %(start)s
            )
            GROUP BY "timestamp"
        )"""
    walked = f"""steps AS (
            SELECT "timestamp" AS t, {side_sql(mean, '"timestamp"')} AS side {window}
              AND {
        "(SELECT dense FROM density)" if probed else "(SELECT inner_lo FROM ranges) IS NOT NULL"
    }
            GROUP BY "timestamp"
        ), segments AS (
            SELECT t, side, lead(t) OVER (ORDER BY t) AS next_t
            FROM (SELECT t, side, lag(side) OVER (ORDER BY t) AS prior FROM steps) AS marked
            WHERE prior IS DISTINCT FROM side
        ), dense AS (
            SELECT s.t, a.n, s.side, CASE WHEN s.side > 0 THEN a.hi ELSE a.lo END AS peak,
                   s.next_t, row_number() OVER (ORDER BY s.t) AS run
            FROM segments s
            CROSS JOIN LATERAL (
                SELECT count(*)::int AS n, min(value) AS lo, max(value) AS hi
                FROM {table()}
                WHERE room_id = %(room)s AND "timestamp" >= s.t AND "timestamp" <= %(end)s
                  AND "timestamp" < COALESCE(s.next_t, 'infinity')
            ) a
            WHERE s.side <> 0
        )"""
    params: dict[str, Any] = {"room": room_id, "start": start, "end": end}
    if not probed:
        # A room that never had a range has no excursions: its window is not even read.
        with connection.cursor() as cursor:
            cursor.execute(f"WITH {RANGES_SQL}, {walked}, {before} {finds}", params)
            rows = cursor.fetchall()
        return _excursions_of(rows)
    sql = f"""
        WITH {RANGES_SQL}, size AS MATERIALIZED (
            SELECT count(*) > %(whole)s AS large
            FROM (SELECT 1 {window} LIMIT %(whole)s + 1) AS readings
        ), candidates AS MATERIALIZED (
            SELECT DISTINCT "timestamp" AS t {window}
              AND (SELECT large FROM size)
              -- Null bounds (a room that never had a range) leave no candidate.
              AND (value < (SELECT inner_lo FROM ranges) + %(margin)s
                   OR value > (SELECT inner_hi FROM ranges) - %(margin)s)
        ), probes AS MATERIALIZED (
            SELECT %(per_probe)s * count(*) AS readings FROM candidates
        ), density AS MATERIALIZED (
            SELECT NOT (SELECT large FROM size) OR count(*) <= (SELECT readings FROM probes)
                       AS dense
            FROM (
                SELECT 1 {window} AND (SELECT large FROM size)
                LIMIT (SELECT readings FROM probes) + 1
            ) AS readings
        ), {walked}, judged AS (
            SELECT c.t, a.n, {side_sql("a.mean", "c.t")} AS side, a.lo, a.hi
            FROM candidates c
            CROSS JOIN LATERAL (
                SELECT count(*)::int AS n, {mean} AS mean, min(value) AS lo, max(value) AS hi
                FROM {table()}
                WHERE room_id = %(room)s AND "timestamp" = c.t
            ) a
            WHERE NOT (SELECT dense FROM density)
        ), outside AS MATERIALIZED (
            SELECT t, n, side, CASE WHEN side > 0 THEN hi ELSE lo END AS peak,
                   (SELECT min("timestamp") FROM {table()}
                    WHERE room_id = %(room)s AND "timestamp" > j.t AND "timestamp" <= %(end)s
                   ) AS next_t
            FROM judged j
            WHERE side <> 0
        ), sparse AS (
            SELECT t, n, side, peak, next_t,
                   count(*) FILTER (WHERE begins) OVER (ORDER BY t ROWS UNBOUNDED PRECEDING)
                       AS run
            FROM (
                SELECT *, lag(next_t) OVER w IS DISTINCT FROM t
                          OR lag(side) OVER w IS DISTINCT FROM side AS begins
                FROM outside
                WINDOW w AS (ORDER BY t)
            ) AS begun
        ), {before}
        {finds}
    """
    params.update(margin=_MARGIN_C, per_probe=_READINGS_PER_PROBE, whole=_WALK_WHOLE_UP_TO)
    # Both ways are planned, so a long window's plan costs past `jit_above_cost` and even the
    # inlining and optimizing thresholds, whichever way runs: PostgreSQL then compiled its 160
    # expressions for 1.2 s to run 0.1 s of an impact's year (60 ms before this statement had
    # two ways). Nothing here runs long enough to gain from compiling. And the plan is made
    # for this window each time, not one generic plan for every window once prepared.
    with (
        planner_settings(jit="off", plan_cache_mode="force_custom_plan"),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return _excursions_of(rows)


def _excursions_of(rows: list[Any]) -> list[Excursion]:
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
