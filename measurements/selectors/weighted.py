"""Time-weighted averages of a room's readings (DESIGN §4.5), and the weighing that the mean
kinetic temperature (`mkt`) shares with them.

Each instant's readings (their mean) hold until the next instant, the last until the window's
end; the time before the first is covered by the last instant before the window when there is
one, else left out. On PostgreSQL one statement each, with window functions over the unique
index (room, timestamp, sensor), which hands the rows over in time order; elsewhere the same
definition in Python (`weigh`), which the tests hold the SQL to.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from django.db import connection

from ..models import EPOCH, Bucket, Room, Summary
from .instants import Instant, instants, previous_instant, room_id_of, seconds, table

_MICROSECOND = timedelta(microseconds=1)


@dataclass
class Weighing:
    """A window's instants weighed by time: `segments` are (value, seconds held), oldest first
    (the part before the first instant, held by the one before the window, first); `count`,
    `low`, `high` and `mean` describe the readings inside the window."""

    segments: list[tuple[float, float]] = field(default_factory=list)
    count: int = 0
    total: float = 0.0
    low: float | None = None
    high: float | None = None
    # The value held at the window's end (the last instant, or the one before the window).
    held: float | None = None

    @property
    def covered(self) -> float:
        return sum(s for _, s in self.segments)

    def summary(self, average: float | None) -> Summary:
        return Summary(average=average, min=self.low, max=self.high, count=self.count)

    def fallback(self) -> float | None:
        """The average of a window that covers no time: its readings' mean (they are all at
        its end, one instant), else the value held from before it (or nothing)."""
        return self.total / self.count if self.count else self.held


def weigh(
    previous: Instant | None, steps: Iterable[Instant], start: datetime, end: datetime
) -> Weighing:
    """The definition, instant by instant (the portable path, and the reference the SQL
    follows)."""
    weighing = Weighing()
    held, since = (previous.value, start) if previous is not None else (None, None)
    for step in steps:
        if held is not None and since is not None:
            weighing.segments.append((held, seconds(step.at - since)))
        held, since = step.value, step.at
        weighing.total += step.value * step.count
        weighing.count += step.count
        weighing.low = step.low if weighing.low is None else min(weighing.low, step.low)
        weighing.high = step.high if weighing.high is None else max(weighing.high, step.high)
    if held is not None and since is not None:
        weighing.segments.append((held, seconds(end - since)))
    weighing.held = held
    return weighing


def time_weighted_average(weighing: Weighing) -> float | None:
    """∫ value dt / covered time; a window that covers no time: `Weighing.fallback`."""
    covered = weighing.covered
    if covered > 0:
        return sum(value * s for value, s in weighing.segments) / covered
    return weighing.fallback()


def _time_weighted(
    previous: Instant | None, steps: Iterable[Instant], start: datetime, end: datetime
) -> Summary:
    """The portable time-weighted summary of a window."""
    weighing = weigh(previous, steps, start, end)
    return weighing.summary(time_weighted_average(weighing))


def weighed_buckets(
    room: "Room | str",
    start: datetime,
    end: datetime,
    width: timedelta,
    average: Callable[[Weighing], float | None],
) -> list[Bucket]:
    """The portable series: each bucket a window of its own (its part of `[start, end]`),
    whose beginning the last instant before it covers; `average` makes a Weighing a figure."""
    previous = previous_instant(room, start)
    step = width // _MICROSECOND
    buckets: list[Bucket] = []
    for bucket_start, steps in groupby(
        instants(room, start, end),
        key=lambda s: EPOCH + ((s.at - EPOCH) // _MICROSECOND // step) * step * _MICROSECOND,
    ):
        inside = list(steps)
        weighing = weigh(previous, inside, max(bucket_start, start), min(bucket_start + width, end))
        # A bucket holds an instant: its figures are never None.
        buckets.append(
            Bucket(
                start=bucket_start,
                average=average(weighing),  # type: ignore[arg-type]
                min=weighing.low,  # type: ignore[arg-type]
                max=weighing.high,  # type: ignore[arg-type]
                count=weighing.count,
            )
        )
        previous = inside[-1]
    return buckets


def time_weighted_summary(room: "Room | str", start: datetime, end: datetime) -> Summary:
    """The time-weighted average of `room` over `[start, end]`, with the min, max and count of
    the readings inside the window. A window that covers no time (its only readings are at
    `end`, with none before) averages those readings."""
    if connection.vendor == "postgresql":
        return _time_weighted_summary_sql(room_id_of(room), start, end)
    return _time_weighted(previous_instant(room, start), instants(room, start, end), start, end)


def time_weighted_buckets(
    room: "Room | str", start: datetime, end: datetime, width: timedelta
) -> list[Bucket]:
    """Time-weighted statistics per `width`-wide bucket aligned to the UTC epoch, oldest first.

    Each bucket is a window of its own, `[max(bucket start, start), min(bucket end, end)]`:
    the last reading before it covers its beginning. Buckets without a reading are left out.
    """
    if connection.vendor == "postgresql":
        return _time_weighted_buckets_sql(room_id_of(room), start, end, width)
    return weighed_buckets(room, start, end, width, time_weighted_average)


def _time_weighted_summary_sql(room_id: str, start: datetime, end: datetime) -> Summary:
    # Seconds as date_part('epoch', interval), a double: EXTRACT returns numeric since
    # PostgreSQL 14, and numeric arithmetic on every row was most of the query's time.
    # `steps`: one row per instant in the window, in the unique index's order, so the window
    # function needs no sort. Each holds until the next one, the last until the window's end.
    # The last instant before the window is not a row of `steps` (a UNION ALL of it cost a sort
    # of the whole day): its mean comes as a scalar, with the seconds from the window's start
    # to the first instant (all of them when there is none), which it covers. ROWS, not the
    # default RANGE frame, spares PostgreSQL looking for peers of each row.
    sql = f"""
        WITH {table_sql(STEPS_SQL)}, segments AS (
            SELECT t, v, n, lo, hi,
                   date_part(
                       'epoch',
                       COALESCE(lead(t) OVER (ORDER BY t ROWS UNBOUNDED PRECEDING), %(end)s) - t
                   ) AS seconds
            FROM steps
        )
        SELECT ({table_sql(HELD_SQL)}),
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


def table_sql(template: str) -> str:
    """A statement's text with the readings' table named."""
    return template.replace("{table}", table())


# The window's instants (`%(room)s`, `%(start)s`, `%(end)s`), in the unique index's order.
STEPS_SQL = """
    steps AS (
        SELECT "timestamp" AS t, avg(value) AS v, count(*) AS n,
               min(value) AS lo, max(value) AS hi
        FROM {table}
        WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s
        GROUP BY "timestamp"
    )
"""
# The mean of the last instant before the window, by two probes of the index.
HELD_SQL = """
    SELECT avg(value) FROM {table}
    WHERE room_id = %(room)s AND "timestamp" = (
        SELECT max("timestamp") FROM {table}
        WHERE room_id = %(room)s AND "timestamp" < %(start)s
    )
"""
# The instants of the window (k = 1) and the last one before it (k = 0), each knowing the value
# held before it (`held`), the next instant and its bucket; per bucket, its window is
# [greatest(bucket, start), least(bucket + width, end)]: each of its instants holds until the
# next one or the window's end (`own` seconds), and the value held before its first instant
# covers the window's beginning (`head` seconds).
BUCKET_SEGMENTS_SQL = """
    steps AS (
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
"""


def bucket_params(room_id: str, start: datetime, end: datetime, width: timedelta) -> dict[str, Any]:
    return {"room": room_id, "start": start, "end": end, "width": width, "epoch": EPOCH}


def _time_weighted_buckets_sql(
    room_id: str, start: datetime, end: datetime, width: timedelta
) -> list[Bucket]:
    sql = f"""
        WITH {table_sql(BUCKET_SEGMENTS_SQL)}
        SELECT b, sum(v * own) + COALESCE(sum(held * head), 0), sum(own) + sum(head),
               sum(n)::bigint, min(lo), max(hi), sum(v * n) / sum(n)
        FROM seconds
        GROUP BY b
        ORDER BY b
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, bucket_params(room_id, start, end, width))
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
