"""Reads over a room's readings that take more than one aggregate: time-weighted averages and
excursions outside the room's acceptable range (DESIGN §4.5); `reports` builds on them.

On PostgreSQL each is one SQL statement with window functions over the unique index
(room, timestamp, sensor), which hands the rows over in time order, so nothing is sorted
and only the answer leaves the database. Elsewhere (SQLite, the development database) the
same definitions run in Python over the window's readings; the tests hold both to the same
hand-computed figures.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any, Literal

from django.db import connection

from .models import EPOCH, Bucket, Measurement, Room, Summary

Kind = Literal["low", "high"]
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Excursion:
    """A maximal run of consecutive readings on one side of a room's range (°C)."""

    kind: Kind
    start: datetime
    # The first reading after the run inside the window; None while it is still going on.
    end: datetime | None
    peak: float
    readings: int

    def duration(self, window_end: datetime) -> timedelta:
        """How long the room was outside: until `end`, or until `window_end` while ongoing."""
        return (self.end or window_end) - self.start


@dataclass(frozen=True)
class _Step:
    """The readings of one instant (all sensors): their mean holds until the next instant."""

    at: datetime
    value: float
    count: int
    low: float
    high: float


def _room_id(room: "Room | str") -> str:
    return room.pk if isinstance(room, Room) else room


def _table() -> str:
    return connection.ops.quote_name(Measurement._meta.db_table)


def _seconds(delta: timedelta) -> float:
    # Exact integer microseconds first: a float of a long timedelta would round.
    return (delta // _MICROSECOND) / 1_000_000


# ---------------------------------------------------------------------------------------------
# Time-weighted averages.


def time_weighted_summary(room: "Room | str", start: datetime, end: datetime) -> Summary:
    """The time-weighted average of `room` over `[start, end]`, with the min, max and count of
    the readings inside the window.

    Each instant's readings (their mean, when several sensors read at once) hold until the
    next instant; the last until `end`; the time before the first is covered by the last
    instant before `start` when there is one, else left out. A window that covers no time
    (its only readings are at `end`, with none before) averages those readings.
    """
    if connection.vendor == "postgresql":
        return _time_weighted_summary_sql(_room_id(room), start, end)
    previous = _previous_step(_room_id(room), start)
    return _time_weighted(previous, _steps(_room_id(room), start, end), start, end)


def time_weighted_buckets(
    room: "Room | str", start: datetime, end: datetime, width: timedelta
) -> list[Bucket]:
    """Time-weighted statistics per `width`-wide bucket aligned to the UTC epoch, oldest first.

    Each bucket is a window of its own, `[max(bucket start, start), min(bucket end, end)]`:
    the last reading before it covers its beginning. Buckets without a reading are left out.
    """
    if connection.vendor == "postgresql":
        return _time_weighted_buckets_sql(_room_id(room), start, end, width)
    previous = _previous_step(_room_id(room), start)
    step = width // _MICROSECOND
    buckets: list[Bucket] = []
    for bucket_start, steps in groupby(
        _steps(_room_id(room), start, end),
        key=lambda s: EPOCH + ((s.at - EPOCH) // _MICROSECOND // step) * step * _MICROSECOND,
    ):
        inside = list(steps)
        summary = _time_weighted(
            previous, inside, max(bucket_start, start), min(bucket_start + width, end)
        )
        buckets.append(
            Bucket(
                start=bucket_start,
                average=summary["average"],  # type: ignore[arg-type]
                min=summary["min"],  # type: ignore[arg-type]
                max=summary["max"],  # type: ignore[arg-type]
                count=summary["count"],
            )
        )
        previous = inside[-1]
    return buckets


def _steps(room_id: str, start: datetime, end: datetime) -> Iterator[_Step]:
    """The window's readings grouped by instant, oldest first."""
    rows = (
        Measurement.objects.window(room_id, start, end)
        .order_by("timestamp")
        .values_list("timestamp", "value")
        .iterator()
    )
    for at, group in groupby(rows, key=lambda row: row[0]):
        values = [value for _, value in group]
        yield _Step(at, sum(values) / len(values), len(values), min(values), max(values))


def _previous_step(room_id: str, start: datetime) -> _Step | None:
    """The readings of the last instant before `start`, if any."""
    before = (
        Measurement.objects.filter(room_id=room_id, timestamp__lt=start)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    if before is None:
        return None
    values = list(
        Measurement.objects.filter(room_id=room_id, timestamp=before).values_list(
            "value", flat=True
        )
    )
    return _Step(before, sum(values) / len(values), 0, min(values), max(values))


def _time_weighted(
    previous: _Step | None, steps: Iterable[_Step], start: datetime, end: datetime
) -> Summary:
    """The definition, step by step (the portable path, and the reference the SQL follows)."""
    integral = covered = 0.0
    total = 0.0
    count = 0
    low: float | None = None
    high: float | None = None
    held, since = (previous.value, start) if previous is not None else (None, None)
    for step in steps:
        if held is not None and since is not None:
            seconds = _seconds(step.at - since)
            integral += held * seconds
            covered += seconds
        held, since = step.value, step.at
        total += step.value * step.count
        count += step.count
        low = step.low if low is None else min(low, step.low)
        high = step.high if high is None else max(high, step.high)
    if held is not None and since is not None:
        seconds = _seconds(end - since)
        integral += held * seconds
        covered += seconds
    if covered > 0:
        average: float | None = integral / covered
    elif count:
        average = total / count
    else:
        average = held
    return Summary(average=average, min=low, max=high, count=count)


def _time_weighted_summary_sql(room_id: str, start: datetime, end: datetime) -> Summary:
    table = _table()
    # Seconds as date_part('epoch', interval), a double: EXTRACT returns numeric since
    # PostgreSQL 14, and numeric arithmetic on every row was most of the query's time.
    # `steps`: one row per instant in the window, in the unique index's order, so the window
    # function needs no sort. Each holds until the next one, the last until the window's end.
    # The last instant before the window is not a row of `steps` (a UNION ALL of it cost a sort
    # of the whole day): its mean comes as a scalar, with the seconds from the window's start
    # to the first instant (all of them when there is none), which it covers. ROWS, not the
    # default RANGE frame, spares PostgreSQL looking for peers of each row.
    sql = f"""
        WITH steps AS (
            SELECT "timestamp" AS t, avg(value) AS v, count(*) AS n,
                   min(value) AS lo, max(value) AS hi
            FROM {table}
            WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s
            GROUP BY "timestamp"
        ), segments AS (
            SELECT t, v, n, lo, hi,
                   date_part(
                       'epoch',
                       COALESCE(lead(t) OVER (ORDER BY t ROWS UNBOUNDED PRECEDING), %(end)s) - t
                   ) AS seconds
            FROM steps
        )
        SELECT (
                   SELECT avg(value) FROM {table}
                   WHERE room_id = %(room)s AND "timestamp" = (
                       SELECT max("timestamp") FROM {table}
                       WHERE room_id = %(room)s AND "timestamp" < %(start)s
                   )
               ),
               date_part('epoch', COALESCE(min(t), %(end)s) - %(start)s),
               sum(v * seconds), sum(seconds), sum(n)::bigint, min(lo), max(hi),
               sum(v * n) / NULLIF(sum(n), 0)
        FROM segments
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"room": room_id, "start": start, "end": end})
        held, head, integral, covered, count, low, high, mean = cursor.fetchone()
    count = int(count or 0)
    integral, covered = integral or 0.0, covered or 0.0
    if held is not None:
        # As the definition adds it: the time before the first instant comes first.
        integral, covered = held * head + integral, head + covered
    if covered:
        average = integral / covered
    elif count:
        average = mean
    else:
        average = held  # no reading in the window: the one before it (or nothing)
    return Summary(average=average, min=low, max=high, count=count)


def _time_weighted_buckets_sql(
    room_id: str, start: datetime, end: datetime, width: timedelta
) -> list[Bucket]:
    table = _table()
    # `ordered`: the instants of the window (k = 1) and the last one before it (k = 0), each
    # knowing the value held before it (`held`), the next instant and its bucket. Per bucket,
    # its window is [greatest(bucket, start), least(bucket + width, end)]: each of its instants
    # holds until the next one or the window's end, and the value held before its first instant
    # covers the window's beginning.
    sql = f"""
        WITH steps AS (
            SELECT "timestamp" AS t, 1 AS k, avg(value) AS v, count(*) AS n,
                   min(value) AS lo, max(value) AS hi
            FROM {table}
            WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s
            GROUP BY "timestamp"
            UNION ALL
            SELECT "timestamp", 0, avg(value), 0, NULL, NULL
            FROM {table}
            WHERE room_id = %(room)s AND "timestamp" = (
                SELECT max("timestamp") FROM {table}
                WHERE room_id = %(room)s AND "timestamp" < %(start)s
            )
            GROUP BY "timestamp"
        ), ordered AS (
            SELECT t, k, v, n, lo, hi,
                   lag(v) OVER w AS held,
                   lead(t) OVER w AS next_t,
                   date_bin(%(width)s::interval, t, %(epoch)s::timestamptz) AS b
            FROM steps
            WINDOW w AS (ORDER BY t, k)
        ), parts AS (
            SELECT b, t, v, n, lo, hi, held,
                   lag(b) OVER (ORDER BY t) IS DISTINCT FROM b AS first_in_bucket,
                   GREATEST(b, %(start)s::timestamptz) AS ws,
                   LEAST(b + %(width)s::interval, %(end)s::timestamptz) AS we,
                   next_t
            FROM ordered
            WHERE k = 1
        ), seconds AS (
            SELECT b, v, n, lo, hi,
                   date_part('epoch', LEAST(COALESCE(next_t, we), we) - t) AS own,
                   CASE WHEN first_in_bucket AND held IS NOT NULL
                        THEN date_part('epoch', t - ws) ELSE 0 END AS head,
                   CASE WHEN first_in_bucket THEN held END AS held
            FROM parts
        )
        SELECT b, sum(v * own) + COALESCE(sum(held * head), 0), sum(own) + sum(head),
               sum(n)::bigint, min(lo), max(hi), sum(v * n) / sum(n)
        FROM seconds
        GROUP BY b
        ORDER BY b
    """
    params: dict[str, Any] = {
        "room": room_id,
        "start": start,
        "end": end,
        "width": width,
        "epoch": EPOCH,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Bucket(
            start=bucket,
            average=integral / covered if covered else mean,
            min=low,
            max=high,
            count=int(count),
        )
        for bucket, integral, covered, count, low, high, mean in rows
    ]


# ---------------------------------------------------------------------------------------------
# Excursions.


def excursions(
    room: "Room | str",
    start: datetime,
    end: datetime,
    min_c: float | None,
    max_c: float | None,
) -> list[Excursion]:
    """Maximal runs of consecutive readings of `room` in `[start, end]` (time order, all sensors
    merged; one instant's readings by sensor name) below `min_c` or above `max_c`, oldest first.
    A reading exactly on a bound is inside. No range → no excursions."""
    if min_c is None or max_c is None:
        return []
    if connection.vendor == "postgresql":
        return _excursions_sql(_room_id(room), start, end, min_c, max_c)
    rows = (
        Measurement.objects.window(_room_id(room), start, end)
        .order_by("timestamp", "sensor")
        .values_list("timestamp", "value")
        .iterator()
    )
    return list(_runs(rows, min_c, max_c))


def _side(value: float, min_c: float, max_c: float) -> Kind | None:
    if value < min_c:
        return "low"
    if value > max_c:
        return "high"
    return None


def _runs(
    rows: Iterable[tuple[datetime, float]], min_c: float, max_c: float
) -> Iterator[Excursion]:
    kind: Kind | None = None
    first: datetime | None = None
    peak = 0.0
    count = 0
    for at, value in rows:
        side = _side(value, min_c, max_c)
        if side != kind and kind is not None and first is not None:
            yield Excursion(kind, first, at, peak, count)
        if side is not None and side != kind:
            first, peak, count = at, value, 0
        if side is not None:
            peak = max(peak, value) if side == "high" else min(peak, value)
            count += 1
        kind = side
    if kind is not None and first is not None:
        yield Excursion(kind, first, None, peak, count)


def _excursions_sql(
    room_id: str, start: datetime, end: datetime, min_c: float, max_c: float
) -> list[Excursion]:
    table = _table()
    # Gaps and islands in one ordered pass (window functions cost per row and per pass, and
    # a week is thousands of readings; a second pass over a lag() was a third of the time):
    # `not_low` counts the readings so far that are not low, so it stays constant along a run
    # of low readings and grows between two such runs; `not_high` likewise for high ones. A run
    # is then a group of (side, that count). Every reading adds to one count or both, so their
    # sum orders the runs that start at one instant (a sensor high, the next low) as read.
    # `next_t` is the next reading's timestamp (null for
    # the window's last reading, so a run reaching the end of the window has no end). The
    # window's ORDER BY is the unique index's, so no sort; ROWS, not the default RANGE frame,
    # spares PostgreSQL looking for peers of each row. The two instants come back as integer
    # microseconds since the epoch (exact: `extract` is a numeric since PostgreSQL 14); a
    # timestamptz loaded by Django's converter cost more than the rest of the Python per run.
    sql = f"""
        WITH marked AS (
            SELECT "timestamp" AS t, value,
                   CASE WHEN value < %(min)s THEN -1 WHEN value > %(max)s THEN 1 ELSE 0 END
                       AS side,
                   lead("timestamp") OVER w AS next_t,
                   count(*) FILTER (WHERE value >= %(min)s) OVER w AS not_low,
                   count(*) FILTER (WHERE value <= %(max)s) OVER w AS not_high
            FROM {table}
            WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s
            WINDOW w AS (ORDER BY "timestamp", sensor ROWS UNBOUNDED PRECEDING)
        )
        SELECT side, (extract(epoch FROM min(t)) * 1000000)::bigint,
               (extract(epoch FROM CASE WHEN count(next_t) = count(*) THEN max(next_t) END)
                   * 1000000)::bigint,
               CASE WHEN side > 0 THEN max(value) ELSE min(value) END,
               count(*)
        FROM marked
        WHERE side <> 0
        GROUP BY side, CASE WHEN side > 0 THEN not_high ELSE not_low END
        ORDER BY min(t), min(not_low + not_high)
    """
    params: dict[str, Any] = {
        "room": room_id,
        "start": start,
        "end": end,
        "min": min_c,
        "max": max_c,
    }
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
        )
        for side, first, after, peak, count in rows
    ]
