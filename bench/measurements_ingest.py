"""Ingestion and average throughput of the measurements app, beside the machine's ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_bench ./scripts/uv.sh run --frozen \\
        python bench/measurements_ingest.py [--batches 20] [--size 10000]

Migrate that database first (`manage.py migrate`). It writes readings for a throwaway room
`bench-<pid>` and deletes them at the end. It reports:
- readings/s through `readings_ingest` (what `POST /api/measurements/{room}` with an array
  runs after parsing), beside COPY of the same rows into an unlogged temporary table with
  no index (the database's ceiling on this machine), as a ratio;
- the latency of the one-hour average over the room's readings, beside `SELECT 1` (one
  round trip), as a ratio.
Not a test: numbers depend on the machine and its load.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from measurements.models import Measurement, Room  # noqa: E402
from measurements.services import Reading, readings_ingest  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=10_000)
    args = parser.parse_args()
    room_id = f"bench-{os.getpid()}"
    start = datetime(2020, 1, 1, tzinfo=UTC)
    batches = [
        [
            Reading(timestamp=start + timedelta(seconds=b * args.size + i), value=20.0 + i % 7)
            for i in range(args.size)
        ]
        for b in range(args.batches)
    ]
    try:
        ingest_times = []
        for batch in batches:
            began = time.perf_counter()
            readings_ingest(room_id=room_id, readings=batch)
            ingest_times.append(time.perf_counter() - began)
        ceiling_times = [_copy_ceiling(batch, indexed=False) for batch in batches[:5]]
        indexed_times = [_copy_ceiling(batch, indexed=True) for batch in batches[:5]]
        end = batches[-1][-1].timestamp
        average_times = []
        for _ in range(50):
            began = time.perf_counter()
            Measurement.objects.window(room_id, end - timedelta(hours=1), end).summary()
            average_times.append(time.perf_counter() - began)
        round_trips = []
        with connection.cursor() as cursor:
            for _ in range(50):
                began = time.perf_counter()
                cursor.execute("SELECT 1")
                cursor.fetchone()
                round_trips.append(time.perf_counter() - began)
    finally:
        Measurement.objects.filter(room_id=room_id).delete()
        Room.objects.filter(room_id=room_id).delete()
    rate = args.size / statistics.median(ingest_times)
    ceiling = args.size / statistics.median(ceiling_times)
    indexed = args.size / statistics.median(indexed_times)
    average = statistics.median(average_times) * 1000
    trip = statistics.median(round_trips) * 1000
    print(f"database: {connection.vendor}, {args.batches} batches of {args.size:,} readings")
    print(f"ingest:  {rate:,.0f} readings/s (median batch {statistics.median(ingest_times):.3f}s)")
    print(f"ceiling: {ceiling:,.0f} rows/s COPY into a bare temp table; ratio {rate / ceiling:.2f}")
    print(
        f"ceiling: {indexed:,.0f} rows/s COPY into a temp copy of the table with its unique "
        f"index and checks; ratio {rate / indexed:.2f}"
    )
    print(
        f"average over 1 h: {average:.2f} ms median; SELECT 1: {trip:.2f} ms; ratio {average / trip:.1f}"
    )


def _copy_ceiling(batch: list[Reading], *, indexed: bool) -> float:
    if connection.vendor != "postgresql":
        return float("nan")
    like = "(LIKE measurements_measurement INCLUDING ALL)"
    bare = "(room_id text, timestamp timestamptz, sensor text, value float8)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE bench_ceiling {like if indexed else bare} ON COMMIT DROP"
        )
        began = time.perf_counter()
        with cursor.cursor.copy(  # type: ignore[attr-defined]
            "COPY bench_ceiling (room_id, timestamp, sensor, value) FROM STDIN"
        ) as copy:
            for reading in batch:
                copy.write_row(("bench", reading.timestamp, reading.sensor, reading.value))
        return time.perf_counter() - began


if __name__ == "__main__":
    main()
