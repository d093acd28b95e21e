"""Throughput before and after a commit, in one run: the bench's create and list scenarios
against their framework floors, on two checkouts side by side (issue 21: the restructure
1aec698, "Apps depend one way").

Run from the repository root (the "after" side is this checkout, as committed or not):

    .venv/bin/python -m bench.before_after                      # 4 rounds × 8 s a cell, 1 and 2 workers
    .venv/bin/python -m bench.before_after --before <commit>    # another "before" (default 1aec698^)
    .venv/bin/python -m bench.before_after --duration 3 --rounds 1 --workers 1   # a quick check

1. makes a detached worktree of the "before" commit in a temporary directory, sharing this
   checkout's virtualenv (its dependencies must be a subset of this one's);
2. gives each side its own database (`cs_ba_before`, `cs_ba_after`), migrated by its own code
   and loaded by its own `bench/generate.py` (the small scale's 50,000 calibrations and
   150,000 tag periods, no readings: same seed, same rows), and an API token from its own
   `bench.run.credentials()`; for each worker count each side serves a fresh copy of it
   (`CREATE DATABASE … TEMPLATE`), so the creates of one count do not grow the next one's
   table;
3. starts each side's gunicorn (its own `config/gunicorn.py` and `bench.settings`: production
   settings with the throttle off; the database cache, no Redis) on 127.0.0.1, two ports, with
   `WEB_CONCURRENCY` 1 then 2;
4. runs the list and then the create wrk scenario of `bench/run.py` against the route,
   `/floor` and `/floor-sql` of each side, all six cells in turn in each round, the order
   reversed every other round and the sides swapped every two, so load that comes and goes
   weighs on all alike;
5. measures each path's CPU per request in process on each side (`time.thread_time`, as
   bench/cpu.py does: steadier than req/s on a shared machine);
6. writes req/s, p50/p99, the after/before ratio of each route and floor (with the range of
   the rounds' own paired ratios, the noise), the routes' shares of their floors and the CPU
   per request to bench/results/<date>-before-after.md (`--out` elsewhere), then removes the
   worktree and the databases (`--keep`: not the loaded ones; `--reuse` them next time).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.run import (
    FLOOR_PREFIXES,
    ROOT,
    SERVER,
    VENV_BIN,
    Scenario,
    cpu_busy_share,
    fmt_ms,
    log,
    merged,
    probe,
    psql,
    run_wrk,
    scenarios,
    stop,
)

RESULTS = ROOT / "bench" / "results"
SCRIPTS = ("calibration_list.lua", "create_calibration.lua")  # the list first: data as loaded
PREFIXES = ["", *FLOOR_PREFIXES]
PATH_NAMES = {"": "route", **FLOOR_PREFIXES}

# Run by each side's own interpreter in its own checkout (cwd first on sys.path): its own
# bench.run and bench.generate create, migrate and load the database and make the API token.
PREPARE = """
import sys
from pathlib import Path
from bench import run
from bench.generate import SCALES, load
assert run.ROOT == Path.cwd().resolve(), f"{run.ROOT} is not this side's checkout"
run.setup_django(sys.argv[1])
from django.core.management import call_command
run.recreate_database(sys.argv[1])
call_command("migrate", verbosity=0, interactive=False)
load(f"{run.SERVER}/{sys.argv[1]}", SCALES["small"], with_measurements=False)
print("BENCH_TOKEN", run.credentials()[0])
"""

# Also run by each side in its own checkout: the CPU time (`time.thread_time`, so waiting for
# PostgreSQL does not count) of each scenario's request to the route and to its floors, in
# process through Django's test client, in turns; the medians, in ms. Much steadier than req/s
# on a machine shared with other work (bench/cpu.py measures the same way).
CPU = """
import json, statistics, sys, time
from bench import run
run.setup_django(sys.argv[1])
from django.test import Client
client = Client(HTTP_AUTHORIZATION="Token " + sys.argv[2], HTTP_HOST="127.0.0.1",
                HTTP_ACCEPT="application/json")
requests = int(sys.argv[3])
prefixes = ["", "/floor", "/floor-sql"]
def once(method, path, body):
    started = time.thread_time()
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, body, content_type="application/json")
    spent = time.thread_time() - started
    assert response.status_code in (200, 201), (path, response.status_code)
    return spent
out = {}
for name, method, path, body in json.loads(sys.argv[4]):
    for prefix in prefixes * 5:
        once(method, prefix + path, body)
    spent = {prefix: [] for prefix in prefixes}
    for _ in range(requests):
        for prefix in prefixes:
            spent[prefix].append(once(method, prefix + path, body))
    out[name] = {prefix: statistics.median(v) * 1000 for prefix, v in spent.items()}
print("BENCH_CPU", json.dumps(out))
"""


@dataclass
class Side:
    """One checkout under test: where it is, what it serves, and what it measured."""

    name: str
    root: Path
    commit: str
    port: int
    database: str
    env: dict[str, str] = field(default_factory=dict)
    token: str = ""

    @property
    def serving(self) -> str:
        """The database the server uses: a fresh copy of the loaded one per worker count."""
        return f"{self.database}_run"


def git(*args: str, cwd: Path = ROOT) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def describe(root: Path) -> str:
    """The short commit of a checkout, `+dirty` when tracked files differ from it."""
    dirty = git("status", "--porcelain", "--untracked-files=no", cwd=root)
    return git("rev-parse", "--short", "HEAD", cwd=root) + ("+dirty" if dirty else "")


def side_env(database: str, temp: Path, secret_key: str) -> dict[str, str]:
    """What bench.run.setup_django gives the server, with the database cache instead of Redis
    (REDIS_URL set and empty: setup_django then asks no Redis either)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    return {
        **env,
        "DATABASE_URL": f"{SERVER}/{database}",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600"),
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "STATIC_ROOT": str(temp / "static"),
        # The worker's SQLite queue (where a side has one) out of the checkout.
        "HUEY_FILE": str(temp / f"huey-{database}.sqlite3"),
    }


def compile_bytecode(roots: list[Path]) -> None:
    """Every package of each checkout and the virtualenv's to bytecode first, as bench.run
    does, so no worker compiles from source during a measured run."""
    packages = [p for p in sys.path if p.endswith("site-packages")]
    apps = [
        str(d) for root in roots for d in sorted(root.iterdir()) if (d / "__init__.py").exists()
    ]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-j", "0", *packages, *apps],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def loaded_marker(side: Side) -> str:
    return f"before-after loaded {side.commit}"


def prepare(side: Side, reuse: bool) -> None:
    """The side's database, loaded by its own code, and its API token."""
    comment = psql(
        "postgres",
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
        f"WHERE datname = '{side.database}'",
    )
    if reuse and comment == loaded_marker(side):
        log(f"{side.name}: reusing {side.database}")
        side.token = psql(
            side.database,
            "SELECT t.key FROM authtoken_token t JOIN auth_user u ON u.id = t.user_id "
            "WHERE u.username = 'bench'",
        )
        return
    log(f"{side.name}: creating, migrating and loading {side.database} ({side.commit})")
    out = subprocess.run(
        [sys.executable, "-c", PREPARE, side.database],
        cwd=side.root,
        env=side.env,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^BENCH_TOKEN (\w+)$", out.stdout, re.MULTILINE)
    if out.returncode or not match:
        raise SystemExit(f"{side.name}: loading failed:\n{out.stdout}\n{out.stderr}")
    side.token = match.group(1)
    psql("postgres", f"COMMENT ON DATABASE \"{side.database}\" IS '{loaded_marker(side)}'")


def cpu_per_request(side: Side, chosen: list[Scenario], requests: int) -> dict[str, dict]:
    """The CPU medians of the CPU snippet on a fresh copy of the side's database."""
    fresh_copy(side)
    calls = [[s.name, s.method, s.probe, s.body] for s in chosen]
    out = subprocess.run(
        [sys.executable, "-c", CPU, side.serving, side.token, str(requests), json.dumps(calls)],
        cwd=side.root,
        env={**side.env, "DATABASE_URL": f"{SERVER}/{side.serving}"},
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"^BENCH_CPU (.*)$", out.stdout, re.MULTILINE)
    if out.returncode or not match:
        raise SystemExit(f"{side.name}: CPU measure failed:\n{out.stdout}\n{out.stderr}")
    return json.loads(match.group(1))


def fresh_copy(side: Side) -> None:
    psql("postgres", f'DROP DATABASE IF EXISTS "{side.serving}" WITH (FORCE)')
    psql("postgres", f'CREATE DATABASE "{side.serving}" TEMPLATE "{side.database}"')


def start_server(side: Side, workers: int, log_file: Path) -> subprocess.Popen:
    """The side's gunicorn with its own config/gunicorn.py, as bench.run starts it."""
    env = {
        **side.env,
        "DATABASE_URL": f"{SERVER}/{side.serving}",
        "BIND_ADDRESS": "127.0.0.1",
        "PORT": str(side.port),
        "LOG_LEVEL": "INFO",
        "WEB_CONCURRENCY": str(workers),
    }
    server = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi:application"],
        cwd=side.root,
        env=env,
        stdout=log_file.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{side.port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return server
        except OSError:  # refused, reset or timed out while the workers boot
            pass
        time.sleep(0.3)
    stop(server)
    tail = "\n".join(log_file.read_text(errors="replace").splitlines()[-30:])
    raise SystemExit(f"{side.name}: gunicorn did not start:\n{tail}")


Cell = tuple[str, str]  # (side name, path prefix)


def turn_order(sides: list[Side], turn: int) -> list[Cell]:
    """The six cells of one round: route, floor, SQL floor, each on both sides back to back;
    reversed every other round and the sides swapped every two, so each cell's average
    position in the rounds is the same."""
    names = [s.name for s in sides]
    if turn // 2 % 2:
        names.reverse()
    cells = [(name, prefix) for prefix in PREFIXES for name in names]
    return cells[::-1] if turn % 2 else cells


def measure(
    scenario: Scenario, sides: list[Side], args: argparse.Namespace, data_dir: Path
) -> dict[Cell, list[dict]]:
    """Warm every cell up, then the rounds; every wrk run of every cell."""
    by_name = {s.name: s for s in sides}
    envs = {
        s.name: {**os.environ, "BENCH_TOKEN": s.token, "BENCH_DATA": str(data_dir)} for s in sides
    }
    for side in sides:
        headers = {"Authorization": f"Token {side.token}", "Content-Type": "application/json"}
        for prefix in PREFIXES:
            problem = probe(side.port, scenario, headers, prefix)
            if problem:
                raise SystemExit(f"{side.name} {prefix or 'route'}: {problem}")
    cells = turn_order(sides, 0)

    def once(cell: Cell, seconds: int) -> dict:
        side = by_name[cell[0]]
        wrk_args = argparse.Namespace(port=side.port, duration=seconds)
        return run_wrk(scenario, wrk_args, envs[side.name], seconds, cell[1])

    for cell in cells if args.warmup else []:
        once(cell, args.warmup)
    runs: dict[Cell, list[dict]] = {cell: [] for cell in cells}
    for turn in range(args.rounds):
        for cell in turn_order(sides, turn):
            runs[cell].append(once(cell, args.duration))
    return runs


def ratio_cells(runs: dict[Cell, list[dict]], prefix: str) -> tuple[float, float, float]:
    """after/before of all rounds together, and the lowest and highest of the rounds' own
    ratios (each round's two runs of the cell are back to back or nearly)."""
    before, after = runs[("before", prefix)], runs[("after", prefix)]
    total = merged(after)["rps"] / merged(before)["rps"]
    paired = [a["rps"] / b["rps"] for a, b in zip(after, before, strict=True)]
    return total, min(paired), max(paired)


def pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def report(
    args: argparse.Namespace,
    sides: list[Side],
    results: dict[int, dict[str, dict[Cell, list[dict]]]],
    cpu: dict[str, dict[str, dict]],
    context: dict[str, str],
) -> str:
    before, after = sides
    lines = [
        f"# Before/after: `{args.before}` → this checkout, {context['when']}",
        "",
        f"- Before: `{args.before}` = `{before.commit}`; after: `{after.commit}`. Each side in its "
        "own checkout (the same virtualenv), its own database migrated by its own code and "
        "loaded by its own `bench/generate.py` (small scale without readings: 50,000 "
        "calibrations of 20 users × 8 types, 150,000 tag periods; same seed, same rows), a fresh "
        "copy of it for each worker count; its own gunicorn (`config/gunicorn.py`, "
        "`bench.settings`: production, throttle off; the database cache, no Redis).",
        f"- Machine: {os.cpu_count()} cores; CPU busy {context['busy']} in the 2 s before "
        "each worker count and after the last (`bench.run.cpu_busy_share`, servers idle; over "
        f"25 % is other work running); load average {context['load']}.",
        f"- wrk: 1 thread, 16 connections; {args.rounds} rounds × {args.duration} s a cell after "
        f"{args.warmup} s of warm-up; the six cells (2 sides × route, Django floor, SQL floor) "
        "take turns in each round, reversed every other round, sides swapped every two. req/s "
        "over all rounds; p50 / p99 in ms, the median round's. *rounds*: the lowest and highest "
        "of each round's own after/before ratio (the noise).",
        "",
        "| workers | scenario | path | before req/s | after req/s | after/before | rounds "
        "| before p50 / p99 | after p50 / p99 | errors |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    shares = []
    for workers, by_scenario in results.items():
        for name, runs in by_scenario.items():
            for prefix in PREFIXES:
                b, a = merged(runs[("before", prefix)]), merged(runs[("after", prefix)])
                total, low, high = ratio_cells(runs, prefix)
                lines.append(
                    f"| {workers} | {name} | {PATH_NAMES[prefix]} | {b['rps']:,.0f} | "
                    f"{a['rps']:,.0f} | **{total:.2f}** | {low:.2f}–{high:.2f} | "
                    f"{fmt_ms(b['p50_us'])} / {fmt_ms(b['p99_us'])} | "
                    f"{fmt_ms(a['p50_us'])} / {fmt_ms(a['p99_us'])} | "
                    f"{b['errors']} / {a['errors']} |"
                )
            for prefix in FLOOR_PREFIXES:
                cells = [
                    merged(runs[(s.name, "")])["rps"] / merged(runs[(s.name, prefix)])["rps"]
                    for s in sides
                ]
                shares.append(
                    f"| {workers} | {name} | {FLOOR_PREFIXES[prefix]} | {pct(cells[0])} | "
                    f"{pct(cells[1])} |"
                )
    lines += [
        "",
        "The route's share of each floor (route req/s ÷ floor req/s, same side, same rounds):",
        "",
        "| workers | scenario | floor | before | after |",
        "| ---: | --- | --- | ---: | ---: |",
        *shares,
    ]
    if cpu:
        lines += [
            "",
            f"CPU per request in process (ms, the median of {args.cpu_requests}; "
            "`time.thread_time` through Django's test client, no gunicorn, one request at a time):",
            "",
            "| scenario | path | before | after | after/before |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for name in cpu["before"]:
            for prefix in PREFIXES:
                b, a = cpu["before"][name][prefix], cpu["after"][name][prefix]
                lines.append(
                    f"| {name} | {PATH_NAMES[prefix]} | {b:.2f} | {a:.2f} | **{a / b:.2f}** |"
                )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="1aec698^", help="the commit to compare with")
    parser.add_argument("--duration", type=int, default=8, help="seconds of one cell's run")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds per cell")
    parser.add_argument("--workers", default="1,2", help="gunicorn worker counts, in turn")
    parser.add_argument("--ports", default="8411,8412", help="before's and after's")
    parser.add_argument("--keep", action="store_true", help="keep the loaded databases")
    parser.add_argument("--reuse", action="store_true", help="reuse databases kept by --keep")
    parser.add_argument(
        "--cpu-requests",
        type=int,
        default=200,
        help="requests per path for the in-process CPU measure (0: none)",
    )
    parser.add_argument("--out", type=Path, help="the report's path (default bench/results/)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    now = datetime.now(UTC)
    load_before = os.getloadavg()[0]
    temp = Path(tempfile.mkdtemp(prefix="cs-ba-"))
    (temp / "static").mkdir()
    secret_key = secrets.token_urlsafe(50)
    ports = [int(p) for p in args.ports.split(",")]
    before_root = temp / "before"
    git("worktree", "add", "--detach", str(before_root), args.before)
    sides = [
        Side("before", before_root, describe(before_root), ports[0], "cs_ba_before"),
        Side("after", ROOT, describe(ROOT), ports[1], "cs_ba_after"),
    ]
    servers: list[subprocess.Popen] = []
    try:
        for side in sides:
            side.env = side_env(side.database, temp, secret_key)
            prepare(side, args.reuse)
        compile_bytecode([s.root for s in sides])
        chosen = [
            s for s in scenarios({"calibrations": ["-"], "tags": ["-"]}) if s.script in SCRIPTS
        ]
        chosen.sort(key=lambda s: SCRIPTS.index(s.script))
        results: dict[int, dict[str, dict[Cell, list[dict]]]] = {}
        busy = []
        for workers in [int(n) for n in args.workers.split(",")]:
            for side in sides:
                fresh_copy(side)
            busy.append(cpu_busy_share())
            log(f"{workers} worker(s): CPU busy {busy[-1]:.0%} before starting")
            servers = [start_server(s, workers, temp / f"{s.name}-{workers}.log") for s in sides]
            results[workers] = {}
            for scenario in chosen:
                log(f"{workers} worker(s): {scenario.name}")
                runs = measure(scenario, sides, args, temp)
                results[workers][scenario.name] = runs
                for prefix in PREFIXES:
                    total, low, high = ratio_cells(runs, prefix)
                    rates = [merged(runs[(s.name, prefix)])["rps"] for s in sides]
                    log(
                        f"  {PATH_NAMES[prefix]}: before {rates[0]:,.0f}, after {rates[1]:,.0f} "
                        f"req/s, after/before {total:.2f} (rounds {low:.2f}–{high:.2f})"
                    )
            for server in servers:
                stop(server)
            servers = []
        busy.append(cpu_busy_share())
        cpu = {}
        if args.cpu_requests:
            log(f"CPU per request in process, {args.cpu_requests} requests a path")
            cpu = {s.name: cpu_per_request(s, chosen, args.cpu_requests) for s in sides}
        context = {
            "when": now.strftime("%Y-%m-%d %H:%M UTC"),
            "busy": ", ".join(pct(b) for b in busy),
            "load": f"{load_before:.1f} at the start",
        }
        text = report(args, sides, results, cpu, context)
        print("\n" + text)
        out = args.out or RESULTS / f"{now:%Y-%m-%d-%H%M}-before-after.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        log(f"wrote {out}")
    finally:
        for server in servers:
            stop(server)
        for side in sides:
            psql("postgres", f'DROP DATABASE IF EXISTS "{side.serving}" WITH (FORCE)')
            if not args.keep:
                psql("postgres", f'DROP DATABASE IF EXISTS "{side.database}" WITH (FORCE)')
        git("worktree", "remove", "--force", str(before_root))
        shutil.rmtree(temp, ignore_errors=True)


if __name__ == "__main__":
    main()
