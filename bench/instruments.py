"""The instrument register at scale (DESIGN §8, issue 25): 100,000 instruments, 1 M
calibrations and a year of one sensor's readings.

    .venv/bin/python -m bench.instruments [--reuse] [--out FILE]

Loads `cs_bmon_inst` (or $BENCH_INSTRUMENTS_DATABASE; made anew unless `--reuse` finds it loaded) with set-based SQL
(`INSERT … SELECT generate_series`, then `VACUUM ANALYZE`), not through the API:
- 100,000 instruments: interval 365 days (8 in 10), 180 (1 in 10) or none; 2 % retired;
- 1,000,000 calibrations of a type with tolerance limits, ten per instrument about 180 days
  apart over five years (the newest 0–380 days ago), 5 % out of tolerance; those of every
  20th instrument name none (so 5,000 instruments were never calibrated and 50,000
  calibrations have no instrument);
- `IMPACT-1`, placed in room `impact-room` (range 18–24 °C) as sensor `probe` 500,000 minutes
  ago, calibrated in tolerance then and out of tolerance now, and 500,000 readings of that
  sensor, one a minute (a daily swing, an hour above the range every third day).

Then gunicorn (config/gunicorn.py, bench.settings, 2 workers) and one client:
- `GET /api/instruments` (first page, the next page, `?status=overdue`, `?kind=sensor`), one
  request at a time: p50 ≤ 50 ms;
- `GET /api/calibrations/{id}/impact` of IMPACT-1's out-of-tolerance calibration: p50 ≤ 200 ms;
- `POST /api/calibrations` without and with an `instrument` (a random one in service), 8
  connections, in alternating rounds: with ≥ 90 % of without; and the same requests in this
  process one at a time, alternating (Django's test client): median wall and CPU time each,
  much steadier than req/s on a shared machine.
And `EXPLAIN (ANALYZE, BUFFERS)` of the register's first page and of the impact's statements.
Not a test: figures depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path
from typing import Any

# BENCH_INSTRUMENTS_DATABASE: another database than cs_bmon_inst, so two checkouts can each
# measure their own without dropping the other's (with `--port` and BENCH_REDIS_URL apart too).
DATABASE = os.environ.get("BENCH_INSTRUMENTS_DATABASE", "cs_bmon_inst")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DATABASE}")
os.environ.setdefault("SECRET_KEY", "bench-instruments-not-secret-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("REDIS_URL", os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"))

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client as DjangoClient  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench import live  # noqa: E402
from calibrations.conf import due_soon  # noqa: E402
from calibrations.models import (  # noqa: E402
    Calibration,
    Instrument,
    refresh_standing,
    status_filter,
)
from monitoring.selectors import calibration_impact  # noqa: E402

INSTRUMENTS = 100_000
CALIBRATIONS = 1_000_000
READINGS = 500_000
LIST_TARGET_MS = 50
IMPACT_TARGET_MS = 200
CREATE_TARGET = 0.90
LOADED = "bench-instruments loaded v3"

LOAD_SQL = [
    """INSERT INTO calibrations_calibrationtype (name, unit, description, lower_limit, upper_limit)
       VALUES ('temperature', 'C', 'deviation from the reference', -0.5, 0.5)
       ON CONFLICT (name) DO UPDATE SET lower_limit = -0.5, upper_limit = 0.5""",
    f"""INSERT INTO calibrations_instrument (instrument_id, name, kind, serial_number,
         calibration_interval_days, retired_at, created_at)
       SELECT 'INS-' || lpad(i::text, 6, '0'), 'Instrument ' || i,
              (ARRAY['sensor', 'reference', 'other'])[1 + i % 3], 'SN-' || i,
              CASE WHEN i % 10 < 8 THEN 365 WHEN i % 10 = 8 THEN 180 END,
              CASE WHEN i % 50 = 0 THEN now() - interval '100 days' END,
              now() - interval '6 years'
       FROM generate_series(1, {INSTRUMENTS}) i""",
    f"""INSERT INTO calibrations_calibration (id, value, timestamp, username, created_at,
         created_by_id, calibration_type_id, in_tolerance, instrument_id)
       SELECT gen_random_uuid(), CASE WHEN bad THEN 0.8 ELSE 0.1 END, ts,
              'user' || lpad((g % 20)::text, 2, '0'), ts, NULL,
              (SELECT id FROM calibrations_calibrationtype WHERE name = 'temperature'),
              NOT bad, CASE WHEN i % 20 <> 0 THEN 'INS-' || lpad(i::text, 6, '0') END
       FROM (SELECT g, 1 + (g - 1) % {INSTRUMENTS} AS i,
                    now() - ((g - 1) / {INSTRUMENTS}) * interval '180 days'
                          - (hashint4(g) & 255) * interval '36 hours' AS ts,
                    (hashint4(g + 7) & 1023) < 51 AS bad
             FROM generate_series(1, {CALIBRATIONS}) g) s""",
    """INSERT INTO calibrations_instrument (instrument_id, name, kind, serial_number,
         calibration_interval_days, created_at)
       VALUES ('IMPACT-1', 'Impact probe', 'sensor', 'SN-IMPACT', 365, now() - interval '2 years')""",
    """INSERT INTO measurements_room (room_id, name, created_at, min_c, max_c, alarm_deadband_c,
         alarm_delay, alarms_enabled)
       VALUES ('impact-room', 'Impact room', now() - interval '2 years', 18, 24, 0, '0', true)""",
    """INSERT INTO measurements_rangeversion (version, min_c, max_c, changed_at, changed_by,
         reason, room_id)
       VALUES (1, 18, 24, now() - interval '2 years', NULL, '', 'impact-room')""",
    f"""INSERT INTO monitoring_placement (sensor, placed_at, removed_at, instrument_id, room_id)
       VALUES ('probe', date_trunc('minute', now()) - interval '{READINGS} minutes', NULL,
               'IMPACT-1', 'impact-room')""",
    f"""INSERT INTO calibrations_calibration (id, value, timestamp, username, created_at,
         created_by_id, calibration_type_id, in_tolerance, instrument_id)
       SELECT gen_random_uuid(), v, ts, 'user01', ts, NULL,
              (SELECT id FROM calibrations_calibrationtype WHERE name = 'temperature'), ok,
              'IMPACT-1'
       FROM (VALUES (0.1, date_trunc('minute', now()) - interval '{READINGS} minutes', true),
                    (0.9, date_trunc('minute', now()), false)) AS t (v, ts, ok)""",
    f"""INSERT INTO measurements_measurement (timestamp, sensor, value, room_id)
       SELECT date_trunc('minute', now()) - m * interval '1 minute', 'probe',
              CASE WHEN (m / 60) % 72 = 0 THEN 25.0
                   ELSE round((21 + 1.5 * sin(2 * pi() * m / 1440.0)
                               + (hashint4(m) & 255) / 512.0)::numeric, 2)::float8 END,
              'impact-room'
       FROM generate_series(0, {READINGS - 1}) m""",
]


def load(reuse: bool) -> None:
    if reuse:
        try:
            marks = live.sql(
                DATABASE, "SELECT obj_description('calibrations_instrument'::regclass)"
            )
            if marks and marks[0][0] == LOADED:
                live.log(f"{DATABASE}: loaded before, reused")
                return
        except Exception:
            pass
    live.log(f"{DATABASE}: migrating")
    live.migrate(live.ROOT, DATABASE, fresh=True)
    for statement in LOAD_SQL:
        began = time.perf_counter()
        live.sql(DATABASE, statement)
        live.log(f"{statement.split()[2]}: {time.perf_counter() - began:.1f} s")
    # Loaded around the services: each instrument's standing from its calibrations, as the
    # migration that added it does.
    began = time.perf_counter()
    refresh_standing(Instrument, Calibration)
    live.log(f"standing: {time.perf_counter() - began:.1f} s")
    live.sql(DATABASE, "VACUUM ANALYZE")
    live.sql(DATABASE, f"COMMENT ON TABLE calibrations_instrument IS '{LOADED}'")


def timed(client: live.Client, path: str, count: int) -> tuple[list[float], Any]:
    """`count` GETs of `path` one after another: their seconds, and the last answer."""
    times = []
    body: Any = None
    for _ in range(count):
        status, took, data = client.call("GET", path)
        if status != 200:
            raise SystemExit(f"GET {path}: {status} {data[:300]!r}")
        times.append(took)
        body = json.loads(data)
    return times, body


def create_in_process(
    token: str, in_service: list[str], count: int
) -> dict[bool, tuple[float, float]]:
    """Creates without and with an instrument, alternating, one at a time in this process:
    the median (wall, CPU) seconds of each, the first 20 of each left out (warm-up)."""
    client = DjangoClient(HTTP_AUTHORIZATION=f"Token {token}")
    spent: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for i in range(2 * (count + 20)):
        with_instrument = bool(i % 2)
        body = {
            "calibration_type": "temperature",
            "value": round(random.uniform(-0.6, 0.6), 4),
            "username": f"bench-user{random.randrange(20):02d}",
        }
        if with_instrument:
            body["instrument"] = random.choice(in_service)
        wall, cpu = time.perf_counter(), time.thread_time()
        response = client.post(
            "/api/calibrations", json.dumps(body), content_type="application/json"
        )
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        if response.status_code != 201:
            raise SystemExit(f"create: {response.status_code} {response.content[:300]!r}")
        spent[with_instrument].append((wall, cpu))
    return {
        key: (live.median([w for w, _ in v[20:]]), live.median([c for _, c in v[20:]]))
        for key, v in spent.items()
    }


def explains() -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the register's first page and of the impact's statements,
    as the ORM writes them."""
    now = timezone.now()
    register = Instrument.objects.with_status(now=now, due_soon=due_soon()).order_by("due_sort")
    overdue = register.filter(status_filter("overdue", now=now, due_soon=due_soon()))
    parts = ["## The register's first page\n", "```"]
    parts += [register[:51].explain(analyze=True, buffers=True), "```\n"]
    parts += ["## Its first page of overdue instruments\n", "```"]
    parts += [overdue[:51].explain(analyze=True, buffers=True), "```\n"]
    bad = Calibration.objects.get(instrument_id="IMPACT-1", in_tolerance=False)
    with CaptureQueriesContext(connection) as queries:
        calibration_impact(bad)
    parts.append("## The impact's statements\n")
    # As they ran: the planner's settings (`config.planner.planner_settings`) applied again,
    # in one transaction; its BEGIN, savepoints and COMMIT left out.
    with transaction.atomic(), connection.cursor() as cursor:
        for query in queries.captured_queries:
            verb = query["sql"].lstrip().split(None, 1)[0].upper()
            if query["sql"].startswith("SELECT set_config("):
                cursor.execute(query["sql"])
                continue
            if verb not in ("SELECT", "WITH"):
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            parts += ["```", query["sql"][:2000], "", plan, "```\n"]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="keep a loaded database")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--port", type=int, default=8490)
    parser.add_argument("--out", help="also write the report to this file")
    parser.add_argument("--explain-out", help="write the plans to this file")
    args = parser.parse_args()
    load(args.reuse)
    live.compile_bytecode(live.ROOT)
    token = live.api_token(DATABASE)
    in_service = [
        row[0]
        for row in live.sql(
            DATABASE,
            # Not IMPACT-1: a create naming it out of tolerance would add a second bad
            # calibration, and a `--reuse` run would find two.
            "SELECT instrument_id FROM calibrations_instrument WHERE retired_at IS NULL "
            "AND instrument_id <> 'IMPACT-1' ORDER BY random() LIMIT 5000",
        )
    ]
    bad = str(Calibration.objects.get(instrument_id="IMPACT-1", in_tolerance=False).pk)
    rows: list[str] = []
    with live.gunicorn(live.ROOT, DATABASE, args.port, workers=2):
        client = live.Client(args.port, token)
        note = live.machine_note()
        _, body = timed(client, "/api/instruments", 5)  # warm-up
        lists = {}
        for name, path in (
            ("first page", "/api/instruments"),
            ("next page", body["next"].split(f":{args.port}", 1)[1]),
            ("status=overdue", "/api/instruments?status=overdue"),
            ("kind=sensor", "/api/instruments?kind=sensor"),
        ):
            lists[name], answer = timed(client, path, 40)
            live.log(
                f"{name}: {len(answer['results'])} rows, p50 {live.median(lists[name]) * 1000:.1f} ms"
            )
        timed(client, f"/api/calibrations/{bad}/impact", 2)  # warm-up
        impact, answer = timed(client, f"/api/calibrations/{bad}/impact", 20)
        readings = answer["readings"]
        excursions = sum(len(p["excursions"]) for p in answer["placements"])
        live.log(f"impact: {readings} readings, p50 {live.median(impact) * 1000:.1f} ms")

        def create(with_instrument: bool) -> Any:
            def request(_: int, __: int) -> tuple[str, str, Any]:
                body = {
                    "calibration_type": "temperature",
                    "value": round(random.uniform(-0.6, 0.6), 4),
                    "username": f"bench-user{random.randrange(20):02d}",
                }
                if with_instrument:
                    body["instrument"] = random.choice(in_service)
                return "POST", "/api/calibrations", body

            return request

        creates: dict[bool, list[live.LoadResult]] = {False: [], True: []}
        for round_ in range(-1, args.rounds):
            order = (False, True) if round_ % 2 == 0 else (True, False)
            for with_instrument in order:
                run = live.closed_loop(
                    args.port,
                    token,
                    create(with_instrument),
                    connections=8,
                    seconds=2 if round_ < 0 else args.seconds,
                    expect=201,
                )
                if round_ >= 0:
                    creates[with_instrument].append(run)
                    live.log(f"create, instrument={with_instrument}: {run.rate:.1f} req/s")
    in_process = create_in_process(token, in_service, 300)
    for name, times in lists.items():
        p50 = live.median(times) * 1000
        rows.append(
            f"| `GET /api/instruments`, {name} (50 a page) | {p50:.1f} | "
            f"{live.percentile(times, 0.99) * 1000:.1f} | p50 ≤ {LIST_TARGET_MS} ms | "
            f"{'yes' if p50 <= LIST_TARGET_MS else 'no'} |"
        )
    p50 = live.median(impact) * 1000
    rows.append(
        f"| impact, {readings:,} readings, {excursions} excursions | {p50:.1f} | "
        f"{live.percentile(impact, 0.99) * 1000:.1f} | p50 ≤ {IMPACT_TARGET_MS} ms | "
        f"{'yes' if p50 <= IMPACT_TARGET_MS else 'no'} |"
    )
    rate = {
        k: sum(len(r.latencies) for r in v) / sum(r.seconds for r in v) for k, v in creates.items()
    }
    per_round = ", ".join(
        f"{w.rate / wo.rate:.0%}" for w, wo in zip(creates[True], creates[False], strict=True)
    )
    ratio = rate[True] / rate[False]
    report = "\n".join(
        [
            f"# Instruments at 100,000, {time.strftime('%Y-%m-%d %H:%M')} UTC",
            "",
            f"- Machine: {note}; shared with other work.",
            f"- {DATABASE}: {INSTRUMENTS:,} instruments, {CALIBRATIONS:,} calibrations, "
            f"{READINGS:,} readings of IMPACT-1's sensor; gunicorn -c config/gunicorn.py, "
            "2 workers, bench.settings; one request at a time for the reads.",
            "",
            "| request | p50 ms | p99 ms | target | met |",
            "| --- | ---: | ---: | --- | --- |",
            *rows,
            "",
            f"Calibration create, 8 connections, {args.rounds} rounds of {args.seconds:g} s each "
            f"way in turns: without an instrument {rate[False]:.1f} req/s, naming one "
            f"{rate[True]:.1f} req/s: {ratio:.0%} (per round {per_round}); target ≥ "
            f"{CREATE_TARGET:.0%}: {'met' if ratio >= CREATE_TARGET else 'not met'}. Errors: "
            f"{sum(r.errors for v in creates.values() for r in v)}.",
            "",
            "The same creates in process, one at a time, alternating (300 each; median ms): "
            f"without an instrument {in_process[False][0] * 1000:.2f} wall / "
            f"{in_process[False][1] * 1000:.2f} CPU, naming one {in_process[True][0] * 1000:.2f} "
            f"wall / {in_process[True][1] * 1000:.2f} CPU: a rate of "
            f"{in_process[False][0] / in_process[True][0]:.0%} of without by wall time.",
            "",
        ]
    )
    print(report)
    if args.out:
        Path(args.out).write_text(report)
    plans = explains()
    if args.explain_out:
        Path(args.explain_out).write_text(plans)
    else:
        print(plans)


if __name__ == "__main__":
    main()
