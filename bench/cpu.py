"""Per-request CPU of each measured route against its framework floor, in process.

`python -m bench.cpu [--small] [--requests N] [name …]`: on the data set `make bench` loaded,
sends each route's request and its floors' in turns through Django's test client (no
gunicorn, no wrk, no concurrency) and reports the median CPU time each took in this thread
(`time.thread_time`: waiting for PostgreSQL does not count). On a machine shared with other
work this is much steadier than req/s, which the other work's CPU and PostgreSQL's latency
move; it measures what the share of floor is about: Python spent per request. Beside it, the
route's mean CPU per request in PostgreSQL: the backend serving this process's connection, read
from `/proc/<pid>/stat` (user + system, in clock ticks: a mean over many requests, not a
median), when PostgreSQL runs on this machine ("—" otherwise). The two together are what a
request costs the machine: at N connections on C cores a p50 of T ms needs no more than
C × T / N ms of both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.run import credentials, log, remove_posted_readings, samples, setup_django


def routes(picked: dict[str, list[str]]) -> dict[str, tuple[str, str, str | None]]:
    cal, tag, room = picked["calibrations"][0], picked["tags"][0], picked["rooms"][0]
    return {
        "create calibration": (
            "POST",
            "/api/calibrations",
            '{"calibration_type": "gain", "value": 1.5, "username": "bench-user01"}',
        ),
        "calibration list": (
            "GET",
            "/api/calibrations?username=user01&calibration_type=gain&page_size=50",
            None,
        ),
        "get one calibration": ("GET", f"/api/calibrations/{cal}", None),
        "tags as of T": (
            "GET",
            f"/api/calibrations/{cal}/tags?timestamp=2024-01-01T00:00:00Z",
            None,
        ),
        "calibrations carrying a tag": (
            "GET",
            f"/api/tags/{tag}/calibrations?timestamp=2024-01-01T00:00:00Z",
            None,
        ),
        "post one reading": (
            "POST",
            f"/api/measurements/{room}",
            '{"value": 21.5, "unit": "C", "sensor": "bench-probe"}',
        ),
        "room average 1 day": ("GET", f"/api/measurements/{room}/average/P1D", None),
        "series 1 week / 1 h": ("GET", f"/api/measurements/{room}/series?bucket=1h", None),
        "room average 1 day, time-weighted": (
            "GET",
            f"/api/measurements/{room}/average/P1D?method=time_weighted",
            None,
        ),
        "room average 1 day, MKT": (
            "GET",
            f"/api/measurements/{room}/average/P1D?method=mkt",
            None,
        ),
        "room excursions 7 days": ("GET", f"/api/measurements/{room}/excursions", None),
        "rooms list with status (50 a page)": ("GET", "/api/rooms?page_size=50", None),
        "room range history": ("GET", f"/api/rooms/{room}/range-history", None),
        "instruments list (50 a page)": ("GET", "/api/instruments?page_size=50", None),
        "alarms list (50 a page)": ("GET", "/api/alarms?page_size=50", None),
    }


def backend_cpu() -> tuple[int, float] | None:
    """The pid of the PostgreSQL backend serving this process's connection and the CPU time
    (user + system, seconds) it has used; None when it cannot be read (no connection yet, or
    the server runs on another machine)."""
    from django.db import connection

    if connection.connection is None:
        return None
    pid = connection.connection.info.backend_pid
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Routes measured without floors (bench/floors.py): their columns stay empty. Every route
# above has its floors now.
NO_FLOOR: frozenset[str] = frozenset()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the small data set")
    parser.add_argument("--requests", type=int, default=100, help="per route and per floor")
    parser.add_argument("names", nargs="*", help="routes whose name contains one of these")
    args = parser.parse_args()
    database = "cs_bench_small" if args.small else "cs_bench"
    setup_django(database)
    from django.test import Client

    from bench import floors, floors_sql

    token, _ = credentials()
    picked = samples(database, Path(tempfile.mkdtemp()))
    client = Client(
        HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1", HTTP_ACCEPT="application/json"
    )
    all_prefixes = ["", floors.PREFIX, floors_sql.PREFIX]
    print(
        "| route | route CPU ms | its PostgreSQL CPU ms | Django floor | share | SQL floor | share |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (method, path, body) in routes(picked).items():
        if args.names and not any(part in name for part in args.names):
            continue
        prefixes = [""] if name in NO_FLOOR else all_prefixes

        database_spent: list[float] = []

        def once(
            prefix: str,
            method: str = method,
            path: str = path,
            body: str | None = body,
            database_spent: list[float] = database_spent,
        ) -> float:
            before = backend_cpu() if not prefix else None
            started = time.thread_time()
            if method == "GET":
                response = client.get(prefix + path)
            else:
                response = client.post(prefix + path, body, content_type="application/json")
            spent = time.thread_time() - started
            after = backend_cpu() if before else None
            if before and after and before[0] == after[0]:  # the same backend throughout
                database_spent.append(after[1] - before[1])
            if response.status_code not in (200, 201):
                raise SystemExit(f"{method} {prefix}{path} answered {response.status_code}")
            return spent

        for prefix in prefixes * 5:  # warm all: imports, prepared statements
            once(prefix)
        database_spent.clear()
        spent: dict[str, list[float]] = {prefix: [] for prefix in prefixes}
        for _ in range(args.requests):
            for prefix in prefixes:
                spent[prefix].append(once(prefix))
        route = statistics.median(spent[""])
        backend = (
            f"{statistics.fmean(database_spent) * 1000:.2f}"
            if len(database_spent) >= args.requests // 2
            else "—"
        )
        if name in NO_FLOOR:
            print(f"| {name} | {route * 1000:.2f} | {backend} | — | — | — | — |", flush=True)
            continue
        django, sql = (statistics.median(spent[prefix]) for prefix in all_prefixes[1:])
        print(
            f"| {name} | {route * 1000:.2f} | {backend} | {django * 1000:.2f} "
            f"| {django / route:.0%} | {sql * 1000:.2f} | {sql / route:.0%} |",
            flush=True,
        )
    remove_posted_readings(database, picked["rooms"])
    log("done")


if __name__ == "__main__":
    main()
