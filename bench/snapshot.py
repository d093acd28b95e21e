"""Snapshot benchmarks (issue 13), run by bench/run.py against its gunicorn (`--only snapshot`).

- full snapshot (no filter): rows/s streamed to a Python client reading the body as it comes,
  beside `COPY (the same SELECT) TO STDOUT` of the same query in the same run (target ≥ 50 %);
  and the growth of the serving worker's memory (RSS) while it streams (target < 50 MB);
- one tag as of T: time to the first byte of the body, p50 over several tags (target ≤ 100 ms).

Kept apart from bench/run.py's wrk scenarios: a streamed file of a million rows is one long
request, not a request rate, so it needs its own client and its own ceiling.
"""

from __future__ import annotations

import contextlib
import http.client
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

TARGET_RATIO = 0.5
TARGET_MEMORY_MB = 50
TARGET_FIRST_BYTE_MS = 100


def ensure_versions(psql: Callable[[str, str], str], database: str) -> int:
    """Version 1 for every loaded calibration that has none (the data set is loaded by COPY,
    not through the service): the SQL of migration 0005, then fresh statistics."""
    # Statistics first: on a never-analysed table the planner may pick a nested loop per row.
    psql(database, "ANALYZE calibrations_calibrationversion")
    # No nested loop: with a version table the statistics call empty, PostgreSQL would scan it
    # once per calibration, and each scan reads every page this statement has written so far
    # (quadratic: the million calibrations' insert ran for over 15 minutes).
    added = psql(
        database,
        """
        SET LOCAL enable_nestloop = off;
        WITH added AS (
          INSERT INTO calibrations_calibrationversion (calibration_id, version, change,
            changed_at, changed_by, reason, calibration_type_id, value, timestamp, username)
          SELECT c.id, 1, 'created', c.created_at, NULL, '', c.calibration_type_id, c.value,
                 c.timestamp, c.username
          FROM calibrations_calibration c
          WHERE NOT EXISTS (SELECT 1 FROM calibrations_calibrationversion v
                            WHERE v.calibration_id = c.id)
          RETURNING 1)
        SELECT count(*) FROM added
        """,
    )
    psql(database, "VACUUM ANALYZE calibrations_calibrationversion")
    return int(added or 0)


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _workers(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True)
    return [int(pid) for pid in out.stdout.split()]


def stream(port: int, token: str, query: dict[str, str]) -> tuple[int, float, float, int]:
    """GET /api/snapshot with `query`; (status, seconds to first body byte, total seconds,
    lines) reading the body in 64 KB pieces as it arrives."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request(
        "GET", f"/api/snapshot?{urlencode(query)}", headers={"Authorization": f"Token {token}"}
    )
    response = connection.getresponse()
    first = None
    lines = 0
    while True:
        piece = response.read1(65536)
        if not piece:
            break
        if first is None:
            first = time.perf_counter() - started
        lines += piece.count(b"\n")
        if response.status != 200:
            break
    total = time.perf_counter() - started
    connection.close()
    return response.status, first or total, total, lines


def copy_rate(database_url: str, as_of: datetime) -> tuple[float, int]:
    """Rows/s of `COPY (the snapshot's SELECT) TO STDOUT`, read to the end by psycopg."""
    import psycopg

    from calibrations.snapshot import snapshot_parts

    sql, params = snapshot_parts(as_of=as_of)[0].query.sql_with_params()
    with psycopg.connect(database_url) as connection:
        literal = psycopg.ClientCursor(connection).mogrify(sql, params)
        started = time.perf_counter()
        rows = 0
        with connection.cursor() as cursor, cursor.copy(f"COPY ({literal}) TO STDOUT") as copy:
            for block in copy:
                rows += bytes(block).count(b"\n")
        return rows / (time.perf_counter() - started), rows


def run(
    *,
    port: int,
    token: str,
    server_pid: int,
    database: str,
    database_url: str,
    psql: Callable[[str, str], str],
    log: Callable[[str], None],
) -> list[str]:
    """Run the snapshot scenarios; return the report's Markdown lines."""
    added = ensure_versions(psql, database)
    if added:
        log(f"snapshot: gave {added:,} loaded calibrations their version 1")
    as_of = datetime.now(UTC)
    stamp = as_of.isoformat().replace("+00:00", "Z")
    lines = ["", "", "## Snapshot (`GET /api/snapshot`, issue 13)", ""]

    # Full snapshot: the route against COPY of its own SELECT, then memory while streaming.
    stream(port, token, {"timestamp": stamp, "tag": "tag-000"})  # warm the workers
    copy_rows_s, copy_rows = copy_rate(database_url, as_of)
    workers = _workers(server_pid)
    before = {pid: _rss_kb(pid) for pid in workers}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in workers:
                with contextlib.suppress(OSError):
                    peak[pid] = max(peak[pid], _rss_kb(pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    status, first, total, rows = stream(port, token, {"timestamp": stamp})
    done.set()
    sampler.join()
    growth_mb = max((peak[pid] - before[pid]) / 1024 for pid in workers) if workers else 0.0
    rate = rows / total if total else 0.0
    ratio = rate / copy_rows_s if copy_rows_s else 0.0
    log(
        f"  snapshot full: {rows:,} rows in {total:.1f} s = {rate:,.0f} rows/s; COPY "
        f"{copy_rows_s:,.0f} rows/s ({copy_rows:,} rows); ratio {ratio:.2f}; first byte "
        f"{first * 1000:.0f} ms; worker RSS +{growth_mb:.1f} MB"
    )
    lines += [
        "| scenario | result | ceiling / target | verdict |",
        "|---|---|---|---|",
        f"| full snapshot, jsonl ({rows:,} rows, HTTP {status}) | {rate:,.0f} rows/s | COPY of "
        f"the same SELECT {copy_rows_s:,.0f} rows/s → **{ratio:.0%}** (≥ 50 %) | "
        f"{'ok' if ratio >= TARGET_RATIO else 'MISSED'} |",
        f"| memory while streaming it | +{growth_mb:.1f} MB worker RSS | < {TARGET_MEMORY_MB} MB"
        f" | {'ok' if growth_mb < TARGET_MEMORY_MB else 'MISSED'} |",
    ]

    # One tag as of T: first byte, p50 over 20 tags.
    firsts = []
    for i in range(20):
        _, first, _, _ = stream(port, token, {"timestamp": stamp, "tag": f"tag-{i:03d}"})
        firsts.append(first * 1000)
    p50 = statistics.median(firsts)
    log(f"  snapshot one tag: first byte p50 {p50:.0f} ms (max {max(firsts):.0f} ms)")
    lines.append(
        f"| one tag as of T, first byte (20 tags) | p50 {p50:.0f} ms, max {max(firsts):.0f} ms |"
        f" ≤ {TARGET_FIRST_BYTE_MS} ms | {'ok' if p50 <= TARGET_FIRST_BYTE_MS else 'MISSED'} |"
    )
    return lines
