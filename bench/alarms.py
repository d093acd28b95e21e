"""Monitoring at scale (DESIGN §8, issue 24): what judging costs the readings posts, how soon an
alarm is raised and handed to a webhook, and the no-data sweep.

    .venv/bin/python -m bench.alarms ingest --before /work/wt-pre   # a checkout of 9a0f51f
    .venv/bin/python -m bench.alarms latency [--rooms 1000 --every 10 --minutes 4]
    .venv/bin/python -m bench.alarms cpu      # judging's CPU per post, in process

`ingest`: three gunicorn servers (config/gunicorn.py, bench.settings, 2 workers each), each on
its own database (`cs_bmon_pre`, `cs_bmon_nj`, `cs_bmon_head`) with 1,000 rooms that have a
range (17–25 °C) set through the API:
- `before`: the checkout given by `--before`, the commit before monitoring landed (9a0f51f,
  the parent of c2d10bf), with a worktree of its own and the same virtualenv;
- `no judging`: this checkout with the receiver that judges readings disconnected
  (bench/wsgi_nojudge.py): the same server, judging not run;
- `head`: this checkout as deployed.
Single-reading posts (server-stamped, 2 % of them out of range, 16 connections) and
10,000-reading arrays (a week at one a minute for one of 50 rooms, each newer than the room's
last; all in range, or with ten 30-minute excursions; 4 connections) run in rounds, the three servers in a
rotating order each round, so load from elsewhere on the machine weighs on all alike.
Targets: head ≥ 85 % of before's req/s for single posts, ≥ 90 % for arrays.

`latency`: one gunicorn (as deployed, its default workers) and one `manage.py run_huey` on
`cs_bmon_lat`, RedisHuey on BENCH_REDIS_URL (redis://127.0.0.1:6379/4), a webhook receiver in
this process (an Apprise `json://` target for raised and cleared), and 1,000 rooms (range 18–24,
`alarm_delay` 0 through `PATCH /api/rooms/{id}`) each posting one reading every 10 s, spread
evenly, stamped with the instant it is sent. A tenth of the rooms go out of range for three
readings in every six. An alarm's proving reading is its first one out (`opened_at`), so
`raised_at − opened_at` is reading post → alarm, and the receiver's arrival time − `opened_at`
is reading post → webhook. Targets (p99): raised within 1 s, delivered within 5 s. Then the
no-data sweep (`monitoring.services.no_data_sweep`, what the worker's minute and
`check_alarms` run) in this process on the same 1,000 rooms: once with none silent (every
minute's case) and once an hour ahead, when all 1,000 are silent and each gets an alarm and a
notification (target < 1 s). The database is made anew by each run.

`cpu`: single posts and arrays through Django's test client in this process, judging's
receiver connected and disconnected in turns, the median CPU time (`time.thread_time`) of
each: what judging costs when the server is CPU-bound, steady on a shared machine.

Each prints a Markdown report and write it with `--out`. Not a test: figures depend on the
machine and on what else runs on it; the header says how busy it was.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cs_bmon_lat")
os.environ.setdefault("SECRET_KEY", "bench-alarms-not-secret-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))

import django

django.setup()

from django.test import Client as DjangoClient  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import live  # noqa: E402
from measurements.conf import stale_after  # noqa: E402
from measurements.signals import readings_stored  # noqa: E402
from monitoring.models import Alarm, AlarmKind, Notification  # noqa: E402
from monitoring.receivers import judge_new_readings  # noqa: E402
from monitoring.services import no_data_sweep  # noqa: E402

ROOMS = 1000
BULK_ROOMS = 50
BULK_SIZE = 10_000
SINGLE_TARGET = 0.85
BULK_TARGET = 0.90
RAISE_TARGET_S = 1.0
DELIVER_TARGET_S = 5.0
SWEEP_TARGET_S = 1.0


# ---------------------------------------------------------------------------------------------
# Rooms, set up through the API (the same requests work at every commit compared).


def rooms_setup(port: int, token: str, prefix: str, count: int, rules: dict[str, Any]) -> None:
    """Rooms `<prefix>-0000`…: one reading creates each, a PATCH gives it its range (and, from
    monitoring on, its alarm rules)."""
    stamp = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    lock = threading.Lock()
    pending = list(range(count))

    def work() -> None:
        client = live.Client(port, token)
        while True:
            with lock:
                if not pending:
                    return
                n = pending.pop()
            room = f"{prefix}-{n:04d}"
            client.json(
                "POST",
                f"/api/measurements/{room}",
                {"timestamp": stamp, "value": 21.0, "sensor": "s"},
                expect=201,
            )
            client.json("PATCH", f"/api/rooms/{room}", rules)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# ---------------------------------------------------------------------------------------------
# ingest: head against the commit before monitoring, and against itself without judging.


BULK_START = datetime(2026, 1, 1, tzinfo=UTC)  # after the rooms' first reading (400 days ago)
_bodies: dict[tuple[int, bool], bytes] = {}
_bodies_lock = threading.Lock()


def bulk_body(block: int, excursions: bool) -> bytes:
    """Week `block` after BULK_START at one reading a minute, 19–23 °C; with `excursions`, ten
    30-minute runs above 25 °C (each raises an alarm and clears it). Built once per block."""
    with _bodies_lock:
        if (block, excursions) not in _bodies:
            rng = random.Random(block)
            start = BULK_START + timedelta(minutes=block * BULK_SIZE)
            parts = []
            for i in range(BULK_SIZE):
                out = excursions and i % 1000 < 30
                value = 26.0 + rng.random() if out else 19.0 + rng.random() * 4
                stamp = (start + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
                parts.append(f'{{"timestamp": "{stamp}", "value": {value:.2f}, "sensor": "s"}}')
            _bodies[block, excursions] = ("[" + ",".join(parts) + "]").encode()
        return _bodies[block, excursions]


def single_request(_: int, __: int) -> tuple[str, str, Any]:
    """One server-stamped reading for a random room, 2 % of them out of its range."""
    room = random.randrange(ROOMS)
    value = random.choice((15.0, 27.0)) if random.random() < 0.02 else random.uniform(18, 24)
    return "POST", f"/api/measurements/r-{room:04d}", {"value": round(value, 2), "sensor": "s"}


class ArrayRequests:
    """The n-th array a server gets: room n % 50, the week after that room's previous one, so
    every reading is newer than the room's last judged one and is judged."""

    def __init__(self, prefix: str, excursions: bool) -> None:
        self.prefix = prefix
        self.excursions = excursions
        self.count = 0
        self.lock = threading.Lock()

    def __call__(self, _: int, __: int) -> tuple[str, str, Any]:
        with self.lock:
            k = self.count
            self.count += 1
        room, block = k % BULK_ROOMS, k // BULK_ROOMS
        return (
            "POST",
            f"/api/measurements/{self.prefix}-{room:04d}",
            bulk_body(block, self.excursions),
        )


def ingest(args: argparse.Namespace) -> str:
    here = live.ROOT
    before = Path(args.before).resolve()
    variants = [
        ("before", before, "cs_bmon_pre", "config.wsgi:application", args.port),
        ("no judging", here, "cs_bmon_nj", "bench.wsgi_nojudge:application", args.port + 1),
        ("head", here, "cs_bmon_head", "config.wsgi:application", args.port + 2),
    ]
    rules = {"min_c": 17, "max_c": 25}
    tokens = {}
    for name, checkout, database, _, _ in variants:
        live.log(f"{name}: migrating {database} with {checkout}")
        live.migrate(checkout, database, fresh=True)
        live.compile_bytecode(checkout)
        tokens[name] = live.api_token(database)
    for block in range(6):
        bulk_body(block, False)
        bulk_body(block, True)
    requests = {
        (scenario, name): ArrayRequests(prefix, excursions)
        for scenario, prefix, excursions in (
            ("array, in range", "bulk", False),
            ("array, 10 alarms", "bulkx", True),
        )
        for name, *_ in variants
    }
    results: dict[tuple[str, str], list[live.LoadResult]] = {}
    with ExitStack() as servers:
        for _, checkout, database, app, port in variants:
            servers.enter_context(live.gunicorn(checkout, database, port, app=app, workers=2))
        for name, _, _, _, port in variants:
            live.log(f"{name}: {ROOMS} rooms and {BULK_ROOMS} array rooms through the API")
            rooms_setup(port, tokens[name], "r", ROOMS, rules)
            rooms_setup(port, tokens[name], "bulk", BULK_ROOMS, rules)
            rooms_setup(port, tokens[name], "bulkx", BULK_ROOMS, rules)
        note = live.machine_note()
        for scenario, connections, seconds in (
            ("single", 16, args.seconds),
            ("array, in range", 4, args.seconds * 1.5),
            ("array, 10 alarms", 4, args.seconds * 1.5),
        ):
            for round_ in range(-1, args.rounds):  # round -1 warms each server up
                shift = round_ % 3
                for name, _, _, _, port in variants[shift:] + variants[:shift]:
                    run = live.closed_loop(
                        port,
                        tokens[name],
                        requests.get((scenario, name), single_request),
                        connections=connections,
                        seconds=3 if round_ < 0 else seconds,
                        expect=201,
                    )
                    if round_ >= 0:
                        results.setdefault((scenario, name), []).append(run)
                        live.log(
                            f"{scenario} round {round_ + 1} {name}: {run.rate:.1f} req/s, "
                            f"{run.errors} errors"
                        )
    return ingest_report(args, note, results, variants)


def ingest_report(
    args: argparse.Namespace,
    note: str,
    results: dict[tuple[str, str], list[live.LoadResult]],
    variants: list[tuple[str, Path, str, str, int]],
) -> str:
    lines = [
        f"# Readings posts with and without judging, {time.strftime('%Y-%m-%d %H:%M')} UTC",
        "",
        f"- Machine: {note}; shared with other work.",
        f"- `before`: {variants[0][1]} at its HEAD (the commit before monitoring landed); "
        "`no judging`: this checkout, judging's receiver disconnected; `head`: as deployed.",
        f"- gunicorn -c config/gunicorn.py, 2 workers each; {args.rounds} rounds of "
        f"{args.seconds:g} s (arrays {args.seconds * 1.5:g} s), servers in rotating order.",
        "",
        "| scenario | server | req/s (all rounds) | readings/s | p50 ms | p99 ms | errors | "
        "head ÷ this, per round | head ÷ this, all |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for scenario, size in (
        ("single", 1),
        ("array, in range", BULK_SIZE),
        ("array, 10 alarms", BULK_SIZE),
    ):
        head = results[(scenario, "head")]
        head_rate = sum(len(r.latencies) for r in head) / sum(r.seconds for r in head)
        for name, *_ in variants:
            runs = results[(scenario, name)]
            latencies = [x for r in runs for x in r.latencies]
            rate = len(latencies) / sum(r.seconds for r in runs)
            per_round = ", ".join(
                f"{h.rate / r.rate:.0%}" for h, r in zip(head, runs, strict=True) if r.rate
            )
            lines.append(
                f"| {scenario} | {name} | {rate:,.1f} | {rate * size:,.0f} | "
                f"{live.median(latencies) * 1000:.1f} | {live.percentile(latencies, 0.99) * 1000:.1f} | "
                f"{sum(r.errors for r in runs)} | {per_round if name != 'head' else '—'} | "
                f"{head_rate / rate:.1%} |"
            )
    lines += [
        "",
        f"Targets: head ≥ {SINGLE_TARGET:.0%} of before (single), ≥ {BULK_TARGET:.0%} (array).",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# latency: reading → alarm → webhook, with 1,000 rooms posting every 10 s.


class Receiver(BaseHTTPRequestHandler):
    arrivals: dict[int, tuple[float, str, int]] = {}  # notification id → (time, event, alarm id)
    lock = threading.Lock()

    def do_POST(self) -> None:
        arrived = time.time()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        alarm = body.get("alarm") or {}
        with self.lock:
            self.arrivals.setdefault(
                int(body.get("notification_id") or 0),
                (arrived, str(body.get("event")), int(alarm.get("id") or 0)),
            )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def latency(args: argparse.Namespace) -> str:
    database = "cs_bmon_lat"
    here = live.ROOT
    live.log(f"migrating {database}")
    live.migrate(here, database, fresh=True)
    live.compile_bytecode(here)
    token = live.api_token(database)
    receiver = ThreadingHTTPServer(("127.0.0.1", args.receiver_port), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    posts: list[tuple[float, float, int]] = []  # (sent, took, status)
    lags: list[float] = []
    with live.gunicorn(here, database, args.port), live.huey_worker(here, database):
        client = live.Client(args.port, token)
        client.json(
            "POST",
            "/api/notification-targets",
            {
                "name": "bench receiver",
                "url": f"json://127.0.0.1:{args.receiver_port}/hook",
                "events": ["raised", "cleared"],
            },
            expect=201,
        )
        live.log(f"{args.rooms} rooms through the API")
        rooms_setup(
            args.port,
            token,
            "lat",
            args.rooms,
            {"min_c": 18, "max_c": 24, "alarm_delay": "0s", "alarm_deadband_c": 0},
        )
        note = live.machine_note()
        cycles = int(args.minutes * 60 / args.every)
        live.log(f"posting: {args.rooms} rooms every {args.every:g} s for {cycles} cycles")
        began = time.time() + 1
        lock = threading.Lock()
        next_slot = [0]
        total = cycles * args.rooms
        spacing = args.every / args.rooms
        excursion_every = max(1, round(1 / args.out_of_range))

        def poster() -> None:
            client = live.Client(args.port, token)
            rng = random.Random()
            while True:
                with lock:
                    slot = next_slot[0]
                    next_slot[0] += 1
                if slot >= total:
                    return
                cycle, room = divmod(slot, args.rooms)
                due = began + slot * spacing
                wait = due - time.time()
                if wait > 0:
                    time.sleep(wait)
                out = room % excursion_every == 0 and (cycle + room // excursion_every) % 6 >= 3
                value = rng.uniform(25, 27) if out else rng.uniform(19, 23)
                sent = time.time()
                stamp = datetime.fromtimestamp(sent, UTC).isoformat()
                status, took, _ = client.call(
                    "POST",
                    f"/api/measurements/lat-{room:04d}",
                    {"timestamp": stamp, "value": round(value, 2), "sensor": "s"},
                )
                with lock:
                    posts.append((sent, took, status))
                    lags.append(sent - due)

        threads = [threading.Thread(target=poster) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        live.log("posting done; waiting for the last deliveries")
        time.sleep(8)
        window_start = datetime.fromtimestamp(began, UTC)
        alarms = list(
            Alarm.objects.filter(opened_at__gte=window_start)
            .exclude(kind=AlarmKind.NO_DATA)
            .values_list("pk", "opened_at", "raised_at")
        )
        raised_notes = dict(
            Notification.objects.filter(alarm__opened_at__gte=window_start, event="raised")
            .exclude(alarm__kind=AlarmKind.NO_DATA)
            .values_list("pk", "alarm_id")
        )
        undelivered = Notification.objects.exclude(state="sent").count()
        sweep = sweep_timings(args)
    receiver.shutdown()
    return latency_report(args, note, posts, lags, alarms, raised_notes, undelivered, sweep)


def sweep_timings(args: argparse.Namespace) -> dict[str, float]:
    """The no-data sweep over the rooms, now (none silent) and an hour on (all silent)."""
    timings: dict[str, float] = {}
    now = timezone.now()
    began = time.perf_counter()
    quiet = no_data_sweep(now=now, stale_after=stale_after())
    timings["none silent"] = time.perf_counter() - began
    timings["none silent: raised"] = len(quiet)
    later = now + stale_after() + timedelta(hours=1)
    began = time.perf_counter()
    raised = no_data_sweep(now=later, stale_after=stale_after())
    timings["all silent"] = time.perf_counter() - began
    timings["all silent: raised"] = len(raised)
    began = time.perf_counter()
    again = no_data_sweep(now=later, stale_after=stale_after())
    timings["all silent, alarms already raised"] = time.perf_counter() - began
    timings["again: raised"] = len(again)
    return timings


def latency_report(
    args: argparse.Namespace,
    note: str,
    posts: list[tuple[float, float, int]],
    lags: list[float],
    alarms: list[tuple[int, datetime, datetime]],
    raised_notifications: dict[int, int],
    undelivered: int,
    sweep: dict[str, float],
) -> str:
    opened = {pk: o.timestamp() for pk, o, _ in alarms}
    raise_s = [(r - o).total_seconds() for _, o, r in alarms]
    arrivals = Receiver.arrivals
    deliver_s = []
    handed_s = []
    missing = 0
    for notification, alarm in raised_notifications.items():
        if notification not in arrivals or alarm not in opened:
            missing += 1
            continue
        deliver_s.append(arrivals[notification][0] - opened[alarm])
    raised_at = {pk: r.timestamp() for pk, _, r in alarms}
    for notification, alarm in raised_notifications.items():
        if notification in arrivals and alarm in raised_at:
            handed_s.append(arrivals[notification][0] - raised_at[alarm])
    ok = [took for _, took, status in posts if status == 201]
    span = (max(s for s, _, _ in posts) - min(s for s, _, _ in posts)) if posts else 1

    def row(name: str, values: list[float], target: float | None) -> str:
        p99 = live.percentile(values, 0.99)
        verdict = "" if target is None else ("yes" if p99 <= target else "no")
        return (
            f"| {name} | {len(values):,} | {live.median(values) * 1000:,.0f} | "
            f"{live.percentile(values, 0.95) * 1000:,.0f} | {p99 * 1000:,.0f} | "
            f"{max(values, default=float('nan')) * 1000:,.0f} | "
            f"{'—' if target is None else f'p99 ≤ {target:g} s'} | {verdict} |"
        )

    lines = [
        f"# Alarms at 1,000 rooms, {time.strftime('%Y-%m-%d %H:%M')} UTC",
        "",
        f"- Machine: {note}; shared with other work.",
        f"- {args.rooms} rooms, one reading each every {args.every:g} s for {args.minutes:g} min "
        f"({len(posts):,} posts, {len(posts) / span:,.1f}/s; {len(posts) - len(ok)} not 201; "
        f"{args.clients} client threads; sends late by p99 {live.percentile(lags, 0.99) * 1000:,.0f} ms). "
        f"{args.out_of_range:.0%} of rooms out of range 3 readings in 6.",
        "- gunicorn -c config/gunicorn.py (default workers and threads), bench.settings; "
        "`manage.py run_huey` (RedisHuey); webhook receiver: an Apprise json:// target.",
        "",
        "| from → to | n | p50 ms | p95 ms | p99 ms | max ms | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
        row("reading post → its answer (201)", ok, None),
        row("reading post → Alarm.raised_at", raise_s, RAISE_TARGET_S),
        row("reading post → webhook arrival", deliver_s, DELIVER_TARGET_S),
        row("Alarm.raised_at → webhook arrival", handed_s, None),
        "",
        f"Raised notifications not seen by the receiver: {missing}; notifications not sent at "
        f"the end: {undelivered}; webhooks received in all: {len(arrivals):,}.",
        "",
        "No-data sweep (`monitoring.services.no_data_sweep`) over the same rooms, in process:",
        "",
        "| case | alarms raised | seconds | target | met |",
        "| --- | ---: | ---: | --- | --- |",
    ]
    for case, count in (
        ("none silent", "none silent: raised"),
        ("all silent", "all silent: raised"),
        ("all silent, alarms already raised", "again: raised"),
    ):
        seconds = sweep[case]
        lines.append(
            f"| {case} | {sweep[count]:.0f} | {seconds:.3f} | < {SWEEP_TARGET_S:g} s | "
            f"{'yes' if seconds < SWEEP_TARGET_S else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def judging(on: bool) -> None:
    """Connect or disconnect monitoring's receiver of `readings_stored` in this process."""
    if on:
        readings_stored.connect(judge_new_readings, dispatch_uid="monitoring.judge_new_readings")
    else:
        readings_stored.disconnect(dispatch_uid="monitoring.judge_new_readings")


def cpu(args: argparse.Namespace) -> str:
    """The CPU time of each post with judging and without, in this process (Django's test
    client, `time.thread_time`: waiting for PostgreSQL and for a core does not count), in
    turns; much steadier than req/s on a shared machine. On `cs_bmon_lat`."""
    database = "cs_bmon_lat"
    # Made anew: the array rooms must get weeks they have not had.
    live.migrate(live.ROOT, database, fresh=True)
    token = live.api_token(database)
    client = DjangoClient(HTTP_AUTHORIZATION=f"Token {token}")
    rules = {"min_c": 17, "max_c": 25}
    stamp = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    prefixes = [f"cpu{p}" for p in ("s", "a0", "a1", "x0", "x1")]
    for prefix in prefixes:
        for n in range(ROOMS if prefix == "cpus" else BULK_ROOMS):
            room = f"{prefix}-{n:04d}"
            reading = {"timestamp": stamp, "value": 21.0, "sensor": "s"}
            client.post(f"/api/measurements/{room}", reading, content_type="application/json")
            client.patch(f"/api/rooms/{room}", rules, content_type="application/json")
    arrays = {
        ("array, in range", on): ArrayRequests(f"cpua{int(on)}", False) for on in (False, True)
    } | {("array, 10 alarms", on): ArrayRequests(f"cpux{int(on)}", True) for on in (False, True)}
    spent: dict[tuple[str, bool], list[float]] = {}
    for scenario, count in (
        ("single", args.count),
        ("array, in range", args.count // 8),
        ("array, 10 alarms", args.count // 8),
    ):
        for i in range(2 * (count + 5)):
            on = bool(i % 2)
            judging(on)
            if scenario == "single":
                _, path, body = single_request(0, 0)
                body = json.dumps(body).encode().replace(b"r-", b"cpus-")
                path = path.replace("/r-", "/cpus-")
            else:
                _, path, body = arrays[scenario, on](0, 0)
            # Collected before each request, so one does not pay for the last one's garbage (a
            # collection that a judged array set off landed on the next, unjudged one).
            gc.collect()
            began = time.thread_time()
            response = client.post(path, body, content_type="application/json")
            took = time.thread_time() - began
            if response.status_code != 201:
                raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")
            if i >= 10:  # five of each to warm up
                spent.setdefault((scenario, on), []).append(took)
    judging(True)
    lines = [
        f"# Judging's CPU per post, in process, {time.strftime('%Y-%m-%d %H:%M')} UTC",
        "",
        "Median CPU ms per request (`time.thread_time`), judging off and on in turns; the ratio "
        "is the rate judging leaves when the server is CPU-bound.",
        "",
        "| scenario | requests each | off ms | on ms | off ÷ on |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for scenario in ("single", "array, in range", "array, 10 alarms"):
        off, on_ = live.median(spent[scenario, False]), live.median(spent[scenario, True])
        lines.append(
            f"| {scenario} | {len(spent[scenario, True])} | {off * 1000:.2f} | {on_ * 1000:.2f} "
            f"| {off / on_:.0%} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("ingest", help="judging's cost to the readings posts")
    one.add_argument("--before", required=True, help="a checkout of the commit before monitoring")
    one.add_argument("--rounds", type=int, default=4)
    one.add_argument("--seconds", type=float, default=10)
    one.add_argument("--port", type=int, default=8470)
    two = commands.add_parser("latency", help="reading → alarm → webhook, and the sweep")
    two.add_argument("--rooms", type=int, default=ROOMS)
    two.add_argument("--every", type=float, default=10)
    two.add_argument("--minutes", type=float, default=4)
    two.add_argument("--out-of-range", type=float, default=0.1)
    two.add_argument("--clients", type=int, default=16)
    two.add_argument("--port", type=int, default=8480)
    two.add_argument("--receiver-port", type=int, default=8489)
    three = commands.add_parser("cpu", help="judging's CPU per post, in process")
    three.add_argument("--count", type=int, default=200)
    for sub in (one, two, three):
        sub.add_argument("--out", help="also write the report to this file")
    args = parser.parse_args()
    commands_run = {"ingest": ingest, "latency": latency, "cpu": cpu}
    report = commands_run[args.command](args)
    print(report)
    if args.out:
        Path(args.out).write_text(report)


if __name__ == "__main__":
    main()
