"""Room averages: PostgreSQL's index-only scan against a per-hour rollup, on the loaded data.

`python -m bench.rollup [--database cs_bench]` builds a throwaway hourly rollup
(`bench_rollup_hourly`: sum, count, min, max per room and hour) from the loaded readings,
then times, for 1-day and 7-day windows ending at the newest reading, the query the service
runs (an index-only range scan of `measurement_room_ts_sensor_uniq`, which INCLUDEs value)
against the rollup query (whole hours from the rollup, the two partial hours from the
readings), server-side (EXPLAIN ANALYZE) and as a round trip, and counts how often the two
averages differ. Writes `results/<date>-rollup.md`. What it found is in docs/SCALING.md §3.
"""

import argparse
import random
import re
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

RAW = """
SELECT AVG(value), MIN(value), MAX(value), COUNT(*) FROM measurements_measurement
WHERE room_id = %(room)s AND "timestamp" >= %(start)s AND "timestamp" <= %(end)s
"""
ROLLUP = """
WITH parts AS (
    SELECT sum(total) AS total, sum(n) AS n, min(lo) AS lo, max(hi) AS hi
    FROM bench_rollup_hourly
    WHERE room_id = %(room)s
      AND hour >= date_trunc('hour', %(start)s::timestamptz) + interval '1 hour'
      AND hour < date_trunc('hour', %(end)s::timestamptz)
    UNION ALL
    SELECT sum(value), count(*), min(value), max(value) FROM measurements_measurement
    WHERE room_id = %(room)s AND (
        ("timestamp" >= %(start)s
         AND "timestamp" < date_trunc('hour', %(start)s::timestamptz) + interval '1 hour')
        OR ("timestamp" >= date_trunc('hour', %(end)s::timestamptz) AND "timestamp" <= %(end)s)
    )
)
SELECT sum(total) / nullif(sum(n), 0), min(lo), max(hi), sum(n) FROM parts
"""
BUILD = [
    "DROP TABLE IF EXISTS bench_rollup_hourly",
    """
    CREATE TABLE bench_rollup_hourly AS
    SELECT room_id, date_trunc('hour', "timestamp") AS hour, sum(value) AS total,
           count(*) AS n, min(value) AS lo, max(value) AS hi
    FROM measurements_measurement GROUP BY 1, 2
    """,
    "ALTER TABLE bench_rollup_hourly ADD PRIMARY KEY (room_id, hour)",
    "VACUUM ANALYZE bench_rollup_hourly",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="cs_bench")
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    dsn = f"postgres://postgres@127.0.0.1:5432/{args.database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in BUILD:
            conn.execute(statement)
        rooms = [
            r[0]
            for r in conn.execute(
                "SELECT room_id FROM measurements_room WHERE room_id LIKE 'room-%'"
            )
        ]
        end = conn.execute(
            "SELECT max(timestamp) FROM measurements_measurement WHERE room_id = %s", [rooms[0]]
        ).fetchone()[0]
        rng = random.Random(1)
        lines = [
            f"# Room average: index-only scan vs hourly rollup, {args.database}, "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}",
            "",
            f"{args.samples} random rooms per cell; medians. Load average at start "
            f"{__import__('os').getloadavg()[0]:.1f}.",
            "",
            "| window | query | server time (EXPLAIN ANALYZE) | round trip | averages that differ |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for label, span in (("1 day", timedelta(days=1)), ("7 days", timedelta(days=7))):
            differ = sum(
                conn.execute(RAW, p).fetchone()[0] != float(conn.execute(ROLLUP, p).fetchone()[0])
                for p in ({"room": room, "start": end - span, "end": end} for room in rooms[:100])
            )
            for name, sql in (("index-only scan (the service)", RAW), ("hourly rollup", ROLLUP)):
                server, trip = [], []
                for _ in range(args.samples):
                    p = {"room": rng.choice(rooms), "start": end - span, "end": end}
                    plan = "\n".join(
                        r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, p)
                    )
                    server.append(float(re.search(r"Execution Time: ([\d.]+)", plan).group(1)))
                    started = time.perf_counter()
                    conn.execute(sql, p).fetchone()
                    trip.append((time.perf_counter() - started) * 1000)
                lines.append(
                    f"| {label} | {name} | {statistics.median(server):.2f} ms | "
                    f"{statistics.median(trip):.2f} ms | "
                    f"{differ if name == 'hourly rollup' else '—'} of {min(100, len(rooms))} |"
                )
        conn.execute("DROP TABLE bench_rollup_hourly")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(__file__).parent / "results" / f"{datetime.now(UTC):%Y-%m-%d-%H%M}-rollup.md"
    out.write_text(text)


if __name__ == "__main__":
    main()
