"""The benchmark suite in one command: `make bench` (default scale) or `make bench-small`.

1. creates the database (`cs_bench` / `cs_bench_small`), migrates it and loads the data set
   through COPY (bench/generate.py), unless `--reuse` finds it already loaded;
2. starts gunicorn with production settings (bench/settings.py: throttling off) on 127.0.0.1,
   makes an API token and an admin session;
3. runs each wrk scenario (bench/wrk/*.lua) after checking once that it answers as expected;
4. measures the machine's ceilings in the same run: `pgbench -S` select-only TPS on its own
   database, and COPY rows/s into a table with the indexes of Measurement;
5. captures `EXPLAIN (ANALYZE, BUFFERS)` of the SQL that the main routes run;
6. prints a Markdown table and writes it, with the plans, to bench/results/<date>-<scale>.md.

Run from the repository root: `.venv/bin/python -m bench.run --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench import snapshot as bench_snapshot

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVER = "postgres://postgres@127.0.0.1:5432"
VENV_BIN = Path(sys.executable).parent
# Where bench/urls.py mounts the framework floors: the Django floor (bench/floors.py) and the
# SQL floor (bench/floors_sql.py).
FLOOR_PREFIXES = {"/floor": "Django floor", "/floor-sql": "SQL floor"}


@dataclass
class Scenario:
    """One wrk run: a Lua script, its arguments, and what it must reach."""

    name: str
    script: str
    method: str
    probe: str  # a path checked once before the run (GET, or the method with `body`)
    args: list[str] = field(default_factory=list)
    connections: int = 16
    expect: int = 200
    body: str | None = None
    needs: str = "core"  # "measurements": only once the measurements app is installed
    target_rps: float | None = None
    target_p50_ms: float | None = None
    target_items_per_s: float | None = None  # bulk ingestion: readings/s
    items_per_request: int = 1
    ceiling: str = "pgbench"  # which ceiling the ratio is taken against
    note: str = ""
    # The share of its framework floor (bench/floors.py, DESIGN §8) the route must reach;
    # None: no floor (not an API route the contract measures).
    floor_share: float | None = None
    # The shortest wrk run that counts enough requests of a slow route (the 10,000-reading
    # posts take a second or more each): the turns with its floor are made no shorter.
    min_run_s: int = 3
    # A latency target relative to another scenario of the same run: (its name, the most
    # this scenario's p50 may be as a multiple of that one's).
    target_p50_vs: tuple[str, float] | None = None


def scenarios(samples: dict[str, list[str]]) -> list[Scenario]:
    cal = samples["calibrations"][0]
    tag = samples["tags"][0]
    room = samples["rooms"][0] if samples.get("rooms") else "room-0000"
    # Rooms whose range has one version, and rooms whose range changed twice in the last week
    # (bench/generate.py, `room_ranges_sql`): the excursions judge by the range in force.
    one = (samples.get("rooms_one_version") or [room])[0]
    two = (samples.get("rooms_two_versions") or [room])[0]
    reading = '{"value": 21.5, "unit": "C", "sensor": "bench-probe"}'
    return [
        Scenario(
            "floor: GET /healthz (no database, no DRF)",
            "healthz.lua",
            "GET",
            "/healthz",
            note="what gunicorn + Django middleware cost alone",
        ),
        Scenario(
            "create calibration",
            "create_calibration.lua",
            "POST",
            "/api/calibrations",
            expect=201,
            body='{"calibration_type": "gain", "value": 1.5}',
            target_rps=1000,
            floor_share=0.7,
        ),
        Scenario(
            "calibration list (user + type, 50 rows)",
            "calibration_list.lua",
            "GET",
            "/api/calibrations?username=user01&calibration_type=gain&page_size=50",
            target_rps=500,
            target_p50_ms=15,
            floor_share=0.6,
        ),
        Scenario(
            "get one calibration",
            "calibration_detail.lua",
            "GET",
            f"/api/calibrations/{cal}",
            floor_share=0.6,
        ),
        Scenario(
            "tags of a calibration as of T",
            "tags_as_of.lua",
            "GET",
            f"/api/calibrations/{cal}/tags?timestamp=2024-01-01T00:00:00Z",
            target_rps=500,
            target_p50_ms=15,
            floor_share=0.6,
        ),
        Scenario(
            "calibrations carrying a tag as of T (page 1)",
            "tag_calibrations.lua",
            "GET",
            f"/api/tags/{tag}/calibrations?timestamp=2024-01-01T00:00:00Z",
            target_rps=500,
            target_p50_ms=15,
            floor_share=0.6,
        ),
        Scenario(
            "add + remove a tag",
            "tag_add_remove.lua",
            "GET",
            f"/api/calibrations/{cal}/tag-history",
            note="each add or remove counts as one request",
        ),
        Scenario(
            "room average 1 h",
            "room_average.lua",
            "GET",
            f"/api/measurements/{room}/average/PT1H",
            args=["PT1H"],
            connections=4,
            needs="measurements",
            floor_share=0.6,
        ),
        Scenario(
            "room average 1 day",
            "room_average.lua",
            "GET",
            f"/api/measurements/{room}/average/P1D",
            args=["P1D"],
            connections=4,
            needs="measurements",
            target_p50_ms=10,
            floor_share=0.6,
        ),
        Scenario(
            "room average 7 days",
            "room_average.lua",
            "GET",
            f"/api/measurements/{room}/average/P7D",
            args=["P7D"],
            connections=4,
            needs="measurements",
            target_p50_ms=25,
            floor_share=0.6,
        ),
        Scenario(
            "room average 1 day, time-weighted",
            "room_average_time_weighted.lua",
            "GET",
            f"/api/measurements/{room}/average/P1D?method=time_weighted",
            args=["P1D"],
            connections=4,
            needs="measurements",
            target_p50_vs=("room average 1 day", 1.5),
            floor_share=0.6,
        ),
        Scenario(
            "room average 30 days, time-weighted",
            "room_average.lua",
            "GET",
            f"/api/measurements/{room}/average/P30D?method=time_weighted",
            args=["P30D", "time_weighted"],
            connections=4,
            needs="measurements",
            floor_share=0.6,
        ),
        Scenario(
            "room MKT 30 days",
            "room_average.lua",
            "GET",
            f"/api/measurements/{room}/average/P30D?method=mkt",
            args=["P30D", "mkt"],
            connections=4,
            needs="measurements",
            target_p50_vs=("room average 30 days, time-weighted", 1.5),
            floor_share=0.6,
        ),
        Scenario(
            "room excursions 7 days",
            "room_excursions.lua",
            "GET",
            f"/api/measurements/{room}/excursions",
            connections=4,
            needs="measurements",
            target_p50_ms=25,
            floor_share=0.6,
            note="every loaded room: one in ten has no range, one in ten two changes",
        ),
        Scenario(
            "room excursions 7 days, one range version",
            "room_excursions.lua",
            "GET",
            f"/api/measurements/{one}/excursions",
            args=["rooms_one_version.txt"],
            connections=4,
            needs="measurements",
            target_p50_ms=25,
            floor_share=0.6,
        ),
        Scenario(
            "room excursions 7 days, two range versions",
            "room_excursions.lua",
            "GET",
            f"/api/measurements/{two}/excursions",
            args=["rooms_two_versions.txt"],
            connections=4,
            needs="measurements",
            target_p50_ms=25,
            target_p50_vs=("room excursions 7 days, one range version", 1.2),
            floor_share=0.6,
        ),
        Scenario(
            "rooms list with status (50 a page)",
            "rooms_list.lua",
            "GET",
            "/api/rooms?page_size=50",
            connections=4,
            needs="measurements",
            target_p50_ms=50,
            floor_share=0.6,
        ),
        Scenario(
            "series, 1 week in 1 h buckets",
            "room_series.lua",
            "GET",
            f"/api/measurements/{room}/series?bucket=1h",
            connections=4,
            needs="measurements",
            floor_share=0.6,
        ),
        Scenario(
            "admin: calibrations changelist",
            "admin_changelist.lua",
            "GET",
            "/admin/calibrations/calibration/",
            args=["/admin/calibrations/calibration/"],
            connections=4,
            target_p50_ms=300,
        ),
        Scenario(
            "admin: measurements changelist",
            "admin_changelist.lua",
            "GET",
            "/admin/measurements/measurement/",
            args=["/admin/measurements/measurement/"],
            connections=4,
            needs="measurements",
            target_p50_ms=300,
        ),
        # Writes to readings last, so the reads above see the data set as loaded.
        Scenario(
            "post one reading",
            "post_reading.lua",
            "POST",
            f"/api/measurements/{room}",
            expect=201,
            body=reading,
            needs="measurements",
            target_rps=1200,
            floor_share=0.6,
        ),
        Scenario(
            "post 10,000 readings in one array",
            "post_readings_bulk.lua",
            "GET",
            f"/api/measurements/{room}/average/PT1H",
            connections=4,
            needs="measurements",
            target_items_per_s=150_000,
            items_per_request=10_000,
            ceiling="copy_fk",
            floor_share=0.6,
            min_run_s=15,
        ),
    ]


# ---------------------------------------------------------------------------------------------
# The database.


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def psql(database: str, sql: str) -> str:
    out = subprocess.run(
        ["psql", f"{SERVER}/{database}", "-v", "ON_ERROR_STOP=1", "-XAtqc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def database_exists(name: str) -> bool:
    return psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def recreate_database(name: str) -> None:
    psql("postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{name}"')


def shared_cache_url() -> str:
    """The shared cache as compose deploys it: `REDIS_URL` if set, else this machine's Redis
    (its database 2, apart from the test suites') when it answers, else none (the database
    cache, which the report then names)."""
    if "REDIS_URL" in os.environ:
        return os.environ["REDIS_URL"]
    try:
        answer = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", "6379", "ping"],
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return "redis://127.0.0.1:6379/2" if "PONG" in answer else ""


def setup_django(database: str) -> None:
    """Production settings for this process and the server it starts (same SECRET_KEY)."""
    os.environ.update(
        {
            "DATABASE_URL": f"{SERVER}/{database}",
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600"),
            # The throttle is off, but the credentials cache reads it on every request.
            "REDIS_URL": shared_cache_url(),
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            # The admin's pages need the collected, hashed static files (whitenoise).
            "STATIC_ROOT": str(Path(tempfile.gettempdir()) / "cs-bench-static"),
        }
    )
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()


def has_measurements() -> bool:
    from django.apps import apps

    return apps.is_installed("measurements")


def loaded_marker(database: str) -> str | None:
    """What the loader recorded in the database's comment once the load finished."""
    comment = psql(
        "postgres",
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        f"WHERE datname = '{database}'",
    )
    return comment or None


def prepare_database(args: argparse.Namespace, database: str) -> dict[str, float]:
    """Create, migrate and load the database unless `--reuse` finds a finished load."""
    from django.core.management import call_command

    from bench.generate import SCALES, load

    scale = SCALES[args.scale]
    wanted = f"bench-loaded scale={scale.name} measurements={int(has_measurements())}"
    if args.reuse and database_exists(database) and loaded_marker(database) == wanted:
        log(f"reusing {database} ({wanted})")
        call_command("migrate", verbosity=0, interactive=False)
        if has_measurements():
            # A data set loaded before rooms had ranges (or judgements) gets them now
            # (deterministic, cheap).
            from bench.generate import ROOM_JUDGEMENTS_SQL, room_ranges_sql

            psql(database, room_ranges_sql())
            psql(database, ROOM_JUDGEMENTS_SQL)
        top_up_readings(database)
        return {}
    log(f"creating {database} and loading the {scale.name} data set")
    recreate_database(database)
    call_command("migrate", verbosity=0, interactive=False)
    started = time.monotonic()
    timings = load(f"{SERVER}/{database}", scale, with_measurements=has_measurements())
    timings["total"] = time.monotonic() - started
    psql("postgres", f"COMMENT ON DATABASE \"{database}\" IS '{wanted}'")
    return timings


def top_up_readings(database: str) -> None:
    """On a reused data set, extend every loaded room's readings up to now (90 s apart).

    The average scenarios ask about the last hour/day/week: without this a data set loaded
    yesterday would answer the 1-hour window from an empty range and look fast.
    """
    if not has_measurements():
        return
    from measurements.models import Measurement

    table = Measurement._meta.db_table
    fields = {f.name: f.column for f in Measurement._meta.concrete_fields}
    room, stamp, sensor, value = (fields[n] for n in ("room", "timestamp", "sensor", "value"))
    added = psql(
        database,
        f"""
        WITH last AS (
            SELECT {room} AS room, max({stamp}) AS at FROM {table}
            WHERE {room} LIKE 'room-%' AND {sensor} = '' GROUP BY {room}
        ), ins AS (
            INSERT INTO {table} ({room}, {stamp}, {sensor}, {value})
            SELECT last.room, t, '', 20 + 3 * sin(extract(epoch FROM t) / 13751)
            FROM last, generate_series(last.at + interval '90 seconds', now(),
                                       interval '90 seconds') AS t
            ON CONFLICT DO NOTHING RETURNING 1
        ) SELECT count(*) FROM ins
        """,
    )
    log(f"topped up {added} readings to now")
    psql(database, f"VACUUM ANALYZE {table}")


def samples(database: str, data_dir: Path) -> dict[str, list[str]]:
    """Ids the Lua scripts pick from, written one per line under `data_dir`."""
    from calibrations.models import Calibration
    from tagging.models import Tag

    table = Calibration._meta.db_table
    picked = {
        # TABLESAMPLE spreads the sample over the whole table without sorting it.
        "calibrations": psql(
            database, f"SELECT id FROM {table} TABLESAMPLE SYSTEM (5) REPEATABLE (42) LIMIT 10000"
        ).split(),
        "tags": list(
            Tag.objects.filter(name__startswith="tag-")
            .order_by("name")
            .values_list("name", flat=True)
        ),
    }
    if has_measurements():
        from measurements.models import Room

        picked["rooms"] = list(
            Room.objects.filter(room_id__startswith="room-")
            .order_by("room_id")
            .values_list("room_id", flat=True)
        )
        picked.update(rooms_by_versions())
    for name, items in picked.items():
        (data_dir / f"{name}.txt").write_text("\n".join(items) + "\n")
    return picked


def rooms_by_versions() -> dict[str, list[str]]:
    """The loaded rooms whose range has exactly one version (`rooms_one_version`), and those
    whose range changed at least twice in the last 7 days (`rooms_two_versions`): the
    excursions scenarios compare the two."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from measurements.models import Room

    week_ago = timezone.now() - timedelta(days=7)
    rows = (
        Room.objects.filter(room_id__startswith="room-")
        .annotate(
            versions=Count("range_versions"),
            changes=Count(
                "range_versions",
                filter=Q(range_versions__version__gt=1, range_versions__changed_at__gte=week_ago),
            ),
        )
        .order_by("room_id")
        .values_list("room_id", "versions", "changes")
    )
    picked: dict[str, list[str]] = {"rooms_one_version": [], "rooms_two_versions": []}
    for room_id, versions, changes in rows:
        if versions == 1:
            picked["rooms_one_version"].append(room_id)
        elif changes >= 2:
            picked["rooms_two_versions"].append(room_id)
    return {name: rooms for name, rooms in picked.items() if rooms}


def credentials() -> tuple[str, str]:
    """An API token for a user with exactly the write permissions, and a staff session."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import Permission, User
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    user, _ = User.objects.get_or_create(username="bench")
    codenames = ["add_calibration", "add_tagassignment", "change_tagassignment"]
    if has_measurements():
        codenames.append("add_measurement")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user).key

    admin, _ = User.objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin.set_password(secrets.token_urlsafe(16))
    admin.save()
    session = SessionStore()
    session[SESSION_KEY] = str(admin.pk)
    # The backend that loads the user back (django-axes, listed first, only authenticates).
    session[BACKEND_SESSION_KEY] = "accounts.credentials.ModelBackend"
    session[HASH_SESSION_KEY] = admin.get_session_auth_hash()
    session.create()
    return token, str(session.session_key)


# ---------------------------------------------------------------------------------------------
# The server and the load generator.


def gunicorn_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment that config/gunicorn.py reads: where to listen, and any tuning given."""
    tuned = dict(item.split("=", 1) for item in args.gunicorn_env)
    # INFO so gunicorn logs its workers booting (the report counts them); access log as deployed.
    return {"BIND_ADDRESS": "127.0.0.1", "PORT": str(args.port), "LOG_LEVEL": "INFO", **tuned}


def wrk_env(
    token: str, session: str, data_dir: Path, history_start: datetime, now: datetime
) -> dict[str, str]:
    """The environment of wrk's Lua scripts (wrk/common.lua): the credentials, the sample
    files under `data_dir`, and the span of the generated history."""
    return {
        **os.environ,
        "BENCH_TOKEN": token,
        "BENCH_SESSION": session,
        "BENCH_DATA": str(data_dir),
        "BENCH_RUN_ID": str(int(now.timestamp())),
        "BENCH_HISTORY_START": str(int(history_start.timestamp())),
        "BENCH_HISTORY_END": str(int(now.timestamp())),
    }


def compile_bytecode() -> None:
    """Compile the project and its packages to bytecode first, as the image does at build time
    (`UV_COMPILE_BYTECODE=1` in the Dockerfile).

    Where Python may not write `.pyc` files (`PYTHONDONTWRITEBYTECODE`, set on some machines),
    every gunicorn worker otherwise compiles every module from source when it first imports
    it, modules that Django imports lazily (the URLconf, the admin's templates and template
    tags) included, during the measured run (40 % of the workers' CPU in an admin changelist
    run, by py-spy). `compileall` skips what is already up to date.
    """
    packages = [str(Path(p)) for p in sys.path if p.endswith("site-packages")]
    # Every package of the project, found rather than listed, so that no new app is missed.
    apps = sorted(str(init.parent) for init in ROOT.glob("*/__init__.py"))
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *packages, *apps],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def start_gunicorn(
    args: argparse.Namespace, env: dict[str, str], log_file: Path
) -> subprocess.Popen:
    # The deployment's own gunicorn configuration, tuned only through its environment variables.
    compile_bytecode()
    command = [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi:application"]
    server_env = {**env, **gunicorn_env(args)}
    log(
        "starting gunicorn -c config/gunicorn.py with "
        + " ".join(f"{k}={v}" for k, v in gunicorn_env(args).items())
    )
    server = subprocess.Popen(
        command,
        cwd=ROOT,
        env=server_env,
        stdout=log_file.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:  # refused, reset or timed out while the workers boot
            pass
        if server.poll() is not None:
            break
        time.sleep(0.3)
    stop(server)
    raise SystemExit(f"gunicorn did not start; see {log_file}")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def probe(port: int, scenario: Scenario, headers: dict[str, str], prefix: str = "") -> str | None:
    """One request like the scenario's; None when it answers as expected, else why not."""
    method = scenario.method
    body = scenario.body.encode() if scenario.body else None
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{prefix}{scenario.probe}",
        data=body,
        method=method,
        headers=headers,
    )
    expect = scenario.expect if method != "GET" else 200
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        detail = exc.read()[:300].decode(errors="replace")
        return f"{method} {scenario.probe} answered {status}: {detail}"
    except (urllib.error.URLError, TimeoutError) as exc:
        return f"{method} {scenario.probe} failed: {exc}"
    return None if status == expect else f"{method} {scenario.probe} answered {status}"


def answer(port: int, scenario: Scenario, headers: dict[str, str], prefix: str) -> object:
    """The JSON of one GET of the scenario's probe path (behind `prefix`); raises on an error
    status."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{prefix}{scenario.probe}", method="GET", headers=headers
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def floor_problem(
    port: int, scenario: Scenario, headers: dict[str, str], prefix: str
) -> str | None:
    """None when the floor under `prefix` answers the scenario's request as expected and, for
    a GET, with the route's answer's shape (the same keys, the same `method`); else why not.
    tests/bench/test_floors.py holds the floors it covers to the route's exact JSON."""
    problem = probe(port, scenario, headers, prefix)
    if problem or scenario.method != "GET":
        return problem
    try:
        route, floor = (answer(port, scenario, headers, p) for p in ("", prefix))
    except (OSError, ValueError) as exc:
        return f"{prefix}{scenario.probe}: {exc}"
    if isinstance(route, dict) and isinstance(floor, dict):
        if route.keys() != floor.keys() or route.get("method") != floor.get("method"):
            return f"{prefix}{scenario.probe} answers unlike the route: {sorted(floor)[:12]}"
    elif type(route) is not type(floor):
        return f"{prefix}{scenario.probe} answers unlike the route"
    return None


def run_wrk(
    scenario: Scenario,
    args: argparse.Namespace,
    env: dict[str, str],
    duration: int | None = None,
    prefix: str = "",
) -> dict:
    """One wrk run of the scenario; `prefix` "/floor" runs it against the route's floor."""
    # A run id per wrk run: the bulk posts name their rooms after it, so no run finds the
    # rooms (and readings) of the one before it already there.
    env = {**env, "BENCH_PREFIX": prefix, "BENCH_RUN_ID": str(time.time_ns())}
    command = [
        "wrk",
        "-t1",
        f"-c{scenario.connections}",
        f"-d{duration or args.duration}s",
        "--timeout",
        "30s",
        "-s",
        f"bench/wrk/{scenario.script}",
        f"http://127.0.0.1:{args.port}",
    ]
    if scenario.args:
        command += ["--", *scenario.args]
    out = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    match = re.search(r"^BENCH_RESULT (\{.*\})$", out.stdout, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk gave no result for {scenario.name}:\n{out.stdout}\n{out.stderr}")
    result = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(v for k, v in result.items() if k.startswith("errors_"))
    return result


def merged(results: list[dict]) -> dict:
    """Several wrk runs of one scenario as one: requests over time, the median percentiles."""
    if len(results) == 1:
        return results[0]
    total = {
        "requests": sum(r["requests"] for r in results),
        "duration_us": sum(r["duration_us"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }
    for key in ("p50_us", "p90_us", "p99_us"):
        total[key] = sorted(r[key] for r in results)[len(results) // 2]
    total["rps"] = total["requests"] / (total["duration_us"] / 1e6)
    return total


# ---------------------------------------------------------------------------------------------
# The machine's ceilings.


def pgbench_ceiling(args: argparse.Namespace) -> float:
    """Select-only TPS of `pgbench -S` on its own database, 16 clients."""
    database = "cs_bench_pgbench"
    if not database_exists(database):
        recreate_database(database)
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", "10", "-h", "127.0.0.1", "-U", "postgres", database],
            check=True,
            capture_output=True,
        )
    out = subprocess.run(
        [
            "pgbench",
            "-S",
            "-n",
            "-c16",
            "-j2",
            f"-T{args.duration}",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            database,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    match = re.search(r"tps = ([\d.]+)", out.stdout)
    if not match:
        raise SystemExit(f"pgbench printed no TPS:\n{out.stdout}")
    return float(match.group(1))


def copy_ceilings(database: str, rows: int) -> dict[str, float]:
    """Rows/s of a COPY of readings into an empty table with Measurement's indexes, without
    and with its foreign key to rooms (which PostgreSQL checks row by row)."""
    if not has_measurements():
        return {"copy": 0.0, "copy_fk": 0.0}
    import psycopg

    from measurements.models import Measurement, Room

    table = Measurement._meta.db_table
    fields = {f.name: f.column for f in Measurement._meta.concrete_fields}
    columns = ", ".join(fields[n] for n in ("room", "timestamp", "sensor", "value"))
    start = datetime.now(UTC) - timedelta(days=3650)
    # 10,000 consecutive readings per loaded room, like the array endpoint receives them.
    lines = "".join(
        f"room-{i // 10_000:04d}\t{(start + timedelta(seconds=i)).isoformat()}\t\t21.5\n"
        for i in range(rows)
    )
    foreign_key = (
        f"ALTER TABLE bench_copy_ceiling ADD FOREIGN KEY ({fields['room']}) REFERENCES "
        f"{Room._meta.db_table} ({Room._meta.pk.column}) DEFERRABLE INITIALLY DEFERRED"
    )
    result = {}
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn:
        for key, extra in (("copy", None), ("copy_fk", foreign_key)):
            conn.execute("DROP TABLE IF EXISTS bench_copy_ceiling")
            # LIKE … INCLUDING ALL copies columns, defaults, checks, every index; not the FK.
            conn.execute(f"CREATE TABLE bench_copy_ceiling (LIKE {table} INCLUDING ALL)")
            if extra:
                conn.execute(extra)
            started = time.monotonic()
            sql = f"COPY bench_copy_ceiling ({columns}) FROM STDIN"
            with conn.transaction(), conn.cursor() as cursor, cursor.copy(sql) as copy:
                for offset in range(0, len(lines), 1 << 20):
                    copy.write(lines[offset : offset + (1 << 20)])
            result[key] = rows / (time.monotonic() - started)
            conn.execute("DROP TABLE bench_copy_ceiling")
    return result


# ---------------------------------------------------------------------------------------------
# EXPLAIN (ANALYZE, BUFFERS) of what the routes run.


def explain_routes(samples_: dict[str, list[str]], token: str) -> str:
    """Run each main route in-process, capture its SQL, and EXPLAIN ANALYZE the data queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cal, tag = samples_["calibrations"][1], samples_["tags"][1]
    routes = [
        (
            "calibration list (user + type)",
            "/api/calibrations?username=user01&calibration_type=gain",
        ),
        (
            "tags of a calibration as of T",
            f"/api/calibrations/{cal}/tags?timestamp=2024-01-01T00:00:00Z",
        ),
        (
            "calibrations carrying a tag as of T",
            f"/api/tags/{tag}/calibrations?timestamp=2024-01-01T00:00:00Z",
        ),
    ]
    if has_measurements() and samples_.get("rooms"):
        room = samples_["rooms"][1]
        two = (samples_.get("rooms_two_versions") or [room])[0]
        now = datetime.now(UTC)
        week = f"from={(now - timedelta(days=7)):%Y-%m-%dT%H:%M:%SZ}&to={now:%Y-%m-%dT%H:%M:%SZ}"
        routes += [
            ("room average 1 day", f"/api/measurements/{room}/average/P1D"),
            ("room average 7 days", f"/api/measurements/{room}/average/P7D"),
            ("series 1 week / 1 h", f"/api/measurements/{room}/series?bucket=1h&{week}"),
            (
                "room average 1 day, time-weighted",
                f"/api/measurements/{room}/average/P1D?method=time_weighted",
            ),
            (
                "series 1 day / 1 h, time-weighted",
                f"/api/measurements/{room}/series?bucket=1h&method=time_weighted"
                f"&from={(now - timedelta(days=1)):%Y-%m-%dT%H:%M:%SZ}&to={now:%Y-%m-%dT%H:%M:%SZ}",
            ),
            ("room excursions 7 days", f"/api/measurements/{room}/excursions?{week}"),
            (
                "room excursions 7 days, two range versions",
                f"/api/measurements/{two}/excursions?{week}",
            ),
            (
                "room MKT 30 days",
                f"/api/measurements/{room}/average/P30D?method=mkt",
            ),
            ("rooms list with status (50 a page)", "/api/rooms?page_size=50"),
        ]
    # Authentication and permission lookups are the same on every route; leave them out.
    skip = re.compile(r'"(authtoken_token|auth_user|auth_permission|auth_group|django_session)"')
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    parts = ["## EXPLAIN (ANALYZE, BUFFERS) of the main routes' queries\n"]
    for title, path in routes:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path, secure=True)
        parts.append(f"### {title}\n\n`GET {path}` → {response.status_code}\n")
        for query in captured.captured_queries:
            sql = query["sql"]
            # The selectors' window-function statements begin with WITH: reads all the same.
            if skip.search(sql) or not sql.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            parts.append(f"```sql\n{sql}\n```\n\n```\n{plan}\n```\n")
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# The report.


def fmt_ms(us: float) -> str:
    return f"{us / 1000:.1f}"


def verdict(scenario: Scenario, result: dict) -> str:
    checks = []
    if scenario.target_rps is not None:
        checks.append((result["rps"] >= scenario.target_rps, f"≥ {scenario.target_rps:,.0f} req/s"))
    if scenario.target_items_per_s is not None:
        items = result["rps"] * scenario.items_per_request
        checks.append(
            (items >= scenario.target_items_per_s, f"≥ {scenario.target_items_per_s:,.0f} rows/s")
        )
    if scenario.target_p50_ms is not None:
        checks.append(
            (
                result["p50_us"] / 1000 <= scenario.target_p50_ms,
                f"p50 ≤ {scenario.target_p50_ms:g} ms",
            )
        )
    if scenario.target_p50_vs is not None:
        other, factor = scenario.target_p50_vs
        reference = result.get("p50_reference_us")
        if reference is None:
            detail = "not run"
        else:
            detail = f"{factor * reference / 1000:.1f} ms"
            if result.get("reference_in_turns"):
                detail += f"; it ran in turns with this one, p50 {reference / 1000:.1f} ms"
        checks.append(
            (
                reference is not None and result["p50_us"] <= factor * reference,
                f"p50 ≤ {factor:g}× {other}'s ({detail})",
            )
        )
    if not checks:
        return "—"
    ok = all(c[0] for c in checks) and result["errors"] == 0
    return ("met: " if ok else "**missed**: ") + ", ".join(c[1] for c in checks)


def floor_cell(scenario: Scenario, result: dict, floor: dict | None) -> tuple[str, str]:
    """The floor's req/s, and the route's share of it against what the contract asks."""
    if scenario.floor_share is None:
        return "—", "—"
    if floor is None:
        return "no floor", "—"
    if not floor["rps"]:
        return "0", "—"
    share = result["rps"] / floor["rps"] if floor["rps"] else 0.0
    met = share >= scenario.floor_share and result["errors"] == 0 and floor["errors"] == 0
    mark = "" if met else "**"
    verdict = f"{mark}{share:.0%}{mark} (≥ {scenario.floor_share:.0%})"
    return f"{floor['rps']:,.0f}", verdict


def cpu_busy_share(seconds: float = 2.0) -> float:
    """The share of the machine's CPU time that was not idle over the next `seconds`: what
    other work is running now. The load average would also count this bench's previous run,
    which decays over minutes, and so called a quiet machine busy after two runs in a row."""

    def sample() -> tuple[int, int]:
        fields = [int(n) for n in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields), idle

    total_before, idle_before = sample()
    time.sleep(seconds)
    total_after, idle_after = sample()
    total = total_after - total_before
    return 1 - (idle_after - idle_before) / total if total else 0.0


def report(
    args: argparse.Namespace,
    runs: dict[int | None, list[tuple[Scenario, dict, dict[str, dict] | None]]],
    ceilings: dict[str, float],
    timings: dict[str, float],
    skipped: list[str],
    context: dict,
) -> str:
    lines = [
        f"# Benchmark, {context['scale']} scale, {context['when']}",
        "",
        f"- Machine: {context['machine']}; CPU busy {context['busy_share']:.0%} in the 2 s "
        f"before the run, load average {context['load']}"
        f"{' (**busy machine**: other work was running)' if context['busy'] else ''}.",
        f"- Server: gunicorn -c config/gunicorn.py (as deployed: {context['gunicorn']}), "
        f"settings `bench.settings` (production, throttling off), shared cache "
        f"{'Redis' if os.environ.get('REDIS_URL') else 'the database (no Redis answered)'}; "
        f"commit `{context['commit']}`.",
        "- Floors (DESIGN §8; bench/README.md): each API route's plain-Django twins, no DRF, the "
        "same SQL statements and the same JSON, served by the same gunicorn processes and "
        "measured in turns with the route. *Django floor*: the ORM and `user.has_perm` doing the "
        "route's work (bench/floors.py), so its share is what our DRF layer costs; *SQL floor*: "
        "the same statements as text through `connection.cursor()` (bench/floors_sql.py), so its "
        "share also counts the ORM's query building. `share` is the route's req/s over the "
        "floor's, bold below the contract's minimum.",
        f"- Data: {context['data']}.",
        f"- wrk: 1 thread, {args.duration} s per scenario after {args.warmup} s of warm-up; "
        f"a route and its floor alternate in {args.rounds} runs each (p50/p99: the median "
        "run's); latency in ms.",
        f"- Ceilings (same run): `pgbench -S` {ceilings['pgbench']:,.0f} TPS (16 clients); "
        f"COPY into a table with Measurement's indexes {ceilings['copy']:,.0f} rows/s, "
        f"{ceilings['copy_fk']:,.0f} rows/s with its foreign key to rooms too (`copy_fk`).",
        "",
    ]
    for workers, rows in runs.items():
        lines += [
            "",
            f"### {workers} gunicorn worker{'s' if workers != 1 else ''}"
            if workers
            else "### gunicorn workers as configured",
            "",
            "| scenario | conns | req/s | Django floor | share | SQL floor | share | p50 | p99 "
            "| errors | ratio to ceiling | target |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for scenario, result, floors in rows:
            rate = f"{result['rps']:,.0f}"
            if scenario.items_per_request > 1:
                rate += f" ({result['rps'] * scenario.items_per_request:,.0f} rows/s)"
            ceiling = ceilings[scenario.ceiling]
            done = result["rps"] * scenario.items_per_request
            ratio = f"{done / ceiling:.1%} of {scenario.ceiling}" if ceiling else "—"
            floors = floors or {}
            cells = [
                " | ".join(floor_cell(scenario, result, floors.get(prefix)))
                for prefix in FLOOR_PREFIXES
            ]
            errors = result["errors"] + sum(floor["errors"] for floor in floors.values())
            lines.append(
                f"| {scenario.name} | {scenario.connections} | {rate} | {' | '.join(cells)} | "
                f"{fmt_ms(result['p50_us'])} | {fmt_ms(result['p99_us'])} | {errors} | {ratio} | "
                f"{verdict(scenario, result)} |"
            )
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped) + "."]
    if timings:
        lines += [
            "",
            "Load times: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ".",
        ]
    return "\n".join(lines) + "\n"


def gunicorn_summary(args: argparse.Namespace, log_file: Path) -> str:
    text = log_file.read_text(errors="replace") if log_file.exists() else ""
    workers = len(set(re.findall(r"Booting worker with pid: (\d+)", text)))
    worker_class = re.search(r"Using worker: (\w+)", text)
    tuned = " ".join(f"`{item}`" for item in args.gunicorn_env) or "no overrides"
    kind = worker_class.group(1) if worker_class else "?"
    return f"{kind} workers booted: {workers} (recycled ones included); {tuned}"


def git_commit() -> str:
    out = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=["default", "small"], default="default")
    parser.add_argument("--small", dest="scale", action="store_const", const="small")
    parser.add_argument("--reuse", action="store_true", help="keep an already loaded database")
    parser.add_argument("--load-only", action="store_true", help="load the data set and stop")
    parser.add_argument("--duration", type=int, default=15, help="seconds per wrk scenario")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument(
        "--gunicorn-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="tune config/gunicorn.py, e.g. WEB_CONCURRENCY=2 GUNICORN_THREADS=8 (repeatable)",
    )
    parser.add_argument(
        "--workers",
        default="1,2",
        help="gunicorn worker counts to measure, one server each (WEB_CONCURRENCY); "
        "'' for config/gunicorn.py's default",
    )
    parser.add_argument("--no-floor", action="store_true", help="skip the framework floors")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="a route and its floor alternate in this many runs of duration/rounds seconds",
    )
    parser.add_argument(
        "--only",
        help="run only scenarios whose name contains this text (or one of several, 'a|b')",
    )
    parser.add_argument(
        "--connections",
        type=int,
        help="wrk connections for every scenario instead of its own (1: each route's latency "
        "with no other request in the server)",
    )
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--label", default="", help="suffix of the results file name")
    args = parser.parse_args()

    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    database = "cs_bench" if args.scale == "default" else "cs_bench_small"
    load_before = os.getloadavg()[0]
    busy_before = cpu_busy_share()
    setup_django(database)
    timings = prepare_database(args, database)
    if args.load_only:
        log(f"loaded: {timings}")
        return

    from bench.generate import SCALES

    scale = SCALES[args.scale]
    data_dir = Path(tempfile.mkdtemp(prefix="cs-bench-"))
    picked = samples(database, data_dir)
    token, session = credentials()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    now = datetime.now(UTC)
    env = wrk_env(token, session, data_dir, now - timedelta(days=365 * scale.years), now)
    runs: dict[int | None, list[tuple[Scenario, dict, dict[str, dict] | None]]] = {}
    skipped: list[str] = []
    summaries = []
    snapshot_lines: list[str] = []
    counts_wanted: list[int | None] = [int(n) for n in args.workers.split(",") if n.strip()] or [
        None
    ]
    for index, workers in enumerate(counts_wanted):
        tuned = argparse.Namespace(**vars(args))
        if workers:
            tuned.gunicorn_env = [*args.gunicorn_env, f"WEB_CONCURRENCY={workers}"]
        log_file = data_dir / f"gunicorn-{workers or 'default'}.log"
        # The snapshot's streamed file has its own client and ceiling (bench/snapshot.py): run
        # once, with the first worker count.
        snapshot = None if index else (database, snapshot_lines)
        # The previous run's single-reading posts went into the rooms the reads measure.
        remove_posted_readings(database, picked.get("rooms", []))
        runs[workers] = run_scenarios(
            tuned, env, picked, token, session, log_file, skipped, snapshot
        )
        summaries.append(gunicorn_summary(tuned, log_file))
    remove_posted_readings(database, picked.get("rooms", []))
    cleanup(database)
    for rows in runs.values():
        p50s = {scenario.name: result["p50_us"] for scenario, result, _ in rows}
        for scenario, result, _ in rows:
            if scenario.target_p50_vs is not None and "p50_reference_us" not in result:
                result["p50_reference_us"] = p50s.get(scenario.target_p50_vs[0])

    log("measuring the ceilings")
    ceilings = {
        "pgbench": pgbench_ceiling(args),
        **copy_ceilings(database, 1_000_000 if args.scale == "default" else 200_000),
    }
    log(
        f"  pgbench -S {ceilings['pgbench']:,.0f} TPS; COPY {ceilings['copy']:,.0f} rows/s, "
        f"{ceilings['copy_fk']:,.0f} rows/s with the foreign key"
    )

    counts = f"{scale.calibrations:,} calibrations, {scale.assignments:,} tag periods"
    if has_measurements():
        counts += f", {scale.rooms:,} rooms, {scale.readings:,} readings"
    context = {
        "scale": args.scale,
        "when": now.strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} cores",
        "load": f"{load_before:.1f}",
        "busy_share": busy_before,
        "busy": busy_before > 0.25,
        "commit": git_commit(),
        "gunicorn": "; ".join(summaries),
        "data": counts,
    }
    text = report(args, runs, ceilings, timings, sorted(set(skipped)), context)
    text += "\n".join(snapshot_lines)
    print("\n" + text)
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = f"-{args.label}" if args.label else ""
    stem = f"{now:%Y-%m-%d-%H%M}-{args.scale}{suffix}"
    (RESULTS / f"{stem}.md").write_text(text)
    if not args.no_explain:
        (RESULTS / f"{stem}-explain.md").write_text(explain_routes(picked, token))
    log(f"wrote bench/results/{stem}.md")


def paired_reference(scenario: Scenario, picked: dict[str, list[str]]) -> Scenario | None:
    """The scenario that `scenario`'s p50 target is relative to, with `scenario`'s
    connections; None when its target is absolute."""
    if scenario.target_p50_vs is None:
        return None
    name = scenario.target_p50_vs[0]
    found = next((other for other in scenarios(picked) if other.name == name), None)
    return None if found is None else replace(found, connections=scenario.connections)


def wanted(only: str | None, name: str) -> bool:
    """Whether `--only` selects the scenario `name`: no `--only`, or one of its '|'-separated
    parts is in the name."""
    return not only or any(part and part in name for part in only.split("|"))


def run_scenarios(
    args: argparse.Namespace,
    env: dict[str, str],
    picked: dict[str, list[str]],
    token: str,
    session: str,
    log_file: Path,
    skipped: list[str],
    snapshot: tuple[str, list[str]] | None = None,
) -> list[tuple[Scenario, dict, dict[str, dict] | None]]:
    """Start gunicorn, run every scenario (in turns with its floors), and the snapshot's when
    `snapshot` (the database, and the list its report lines go to) is given; stop gunicorn."""
    server = start_gunicorn(args, env, log_file)
    rows: list[tuple[Scenario, dict, dict[str, dict] | None]] = []
    try:
        for scenario in scenarios(picked):
            if not wanted(args.only, scenario.name):
                continue
            if args.connections:
                scenario = replace(scenario, connections=args.connections)
            if scenario.needs == "measurements" and not has_measurements():
                skipped.append(f"{scenario.name} (no measurements app yet)")
                continue
            headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}
            if scenario.script == "admin_changelist.lua":
                headers = {"Cookie": f"sessionid={session}"}
            problem = probe(args.port, scenario, headers)
            if problem:
                skipped.append(f"{scenario.name} ({problem})")
                log(f"SKIPPED {scenario.name}: {problem}")
                continue
            # A floor that is not there yet, or answers otherwise than the route (a floor of
            # the mean for a time-weighted average), is left out: "no floor" in the report.
            floors = []
            if scenario.floor_share is not None and not args.no_floor:
                for prefix in FLOOR_PREFIXES:
                    unlike = floor_problem(args.port, scenario, headers, prefix)
                    if unlike:
                        unlike = unlike.splitlines()[0].rstrip(": ")
                        log(f"  no {FLOOR_PREFIXES[prefix]} for {scenario.name}: {unlike}")
                    else:
                        floors.append(prefix)
            # A p50 target relative to another scenario: that one runs in turns with this one
            # too ("vs"), so both see the same load; it is also measured on its own.
            reference = paired_reference(scenario, picked)
            turns: dict[str, tuple[Scenario, str]] = {"": (scenario, "")}
            turns.update({prefix: (scenario, prefix) for prefix in floors})
            if reference is not None:
                turns["vs"] = (reference, "")
            alternate = len(turns) > 1
            log(
                f"running {scenario.name}{' and its floor' if floors else ''}"
                + (f", in turns with {reference.name}" if reference else "")
            )
            for which, prefix in turns.values() if args.warmup else []:
                # Every worker and thread has served this route (imports, connections) before
                # the measured run starts.
                run_wrk(which, args, env, duration=args.warmup, prefix=prefix)
            # A route and its floor take turns (route-floor, floor-route, …) in short runs, so
            # a load that comes and goes on a shared machine weighs on both alike.
            rounds = args.rounds if alternate else 1
            share = max(scenario.min_run_s, round(args.duration / rounds))
            rounds = max(1, min(rounds, round(args.duration / share))) if alternate else 1
            runs: dict[str, list[dict]] = {key: [] for key in turns}
            keys = list(turns)
            for turn in range(rounds):
                for key in keys if turn % 2 == 0 else keys[::-1]:
                    which, prefix = turns[key]
                    runs[key].append(run_wrk(which, args, env, share, prefix))
            results = {key: merged(runs[key]) for key in keys}
            for key, result in results.items():
                label = reference.name if key == "vs" and reference else "route"
                log(
                    f"  {FLOOR_PREFIXES.get(key, label)}: {result['rps']:,.0f} req/s, "
                    f"p50 {fmt_ms(result['p50_us'])} ms, p99 {fmt_ms(result['p99_us'])} ms, "
                    f"errors {result['errors']}"
                )
                if key in FLOOR_PREFIXES:
                    log(f"  share of {key}: {results['']['rps'] / result['rps']:.0%}")
            paired = results.pop("vs", None)
            if paired is not None:
                results[""]["p50_reference_us"] = paired["p50_us"]
                results[""]["reference_in_turns"] = True
            route = results.pop("")
            rows.append((scenario, route, results or None))
        if snapshot is not None and wanted(args.only, "snapshot"):
            database, lines = snapshot
            log("running the snapshot scenarios")
            lines += bench_snapshot.run(
                port=args.port,
                token=token,
                server_pid=server.pid,
                database=database,
                database_url=f"{SERVER}/{database}",
                psql=psql,
                log=log,
            )
    finally:
        stop(server)
    return rows


# The sensors the single-reading posts name (wrk/post_reading.lua, the scenarios' check and
# bench/cpu.py): the data set's own readings have none.
POSTED_SENSORS = ("bench", "bench-probe")


def remove_posted_readings(database: str, rooms: list[str]) -> None:
    """Delete the readings the single-reading posts added to the sampled rooms: left there,
    they would grow the windows that the averages and excursions of those rooms read (by a
    third after one run of `bench.cpu`)."""
    if not has_measurements() or not rooms:
        return
    from measurements.models import Measurement

    deleted, _ = Measurement.objects.filter(room_id__in=rooms, sensor__in=POSTED_SENSORS).delete()
    if deleted:
        log(f"removed {deleted:,} readings posted by earlier runs")
        # Index-only scans need the visibility map set again on the pages they touched.
        psql(database, f"VACUUM ANALYZE {Measurement._meta.db_table}")


def cleanup(database: str) -> None:
    """Remove what the bulk scenario wrote, so a reused data set stays the size it was."""
    if not has_measurements():
        return
    from measurements.models import Measurement, Room

    rooms = Room.objects.filter(room_id__gte="bench-bulk-", room_id__lt="bench-bulk.")
    deleted = Measurement.objects.filter(room__in=rooms)._raw_delete(Measurement.objects.db)
    rooms.delete()
    log(f"removed {deleted:,} bulk-posted readings")
    psql(database, f"VACUUM ANALYZE {Measurement._meta.db_table}")


if __name__ == "__main__":
    main()
