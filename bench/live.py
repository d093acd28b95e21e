"""What bench/alarms.py and bench/instruments.py share: a checkout's gunicorn (and Huey worker)
as deployed, an API token made with SQL, and a small HTTP load generator.

Unlike bench/run.py these benchmarks need no wrk: their clients are Python threads (the request
rates here are hundreds a second, not thousands), so they can compare two checkouts in turns,
time an alarm from its reading to a webhook, or alternate two request bodies.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgres://postgres@127.0.0.1:5432"
# The shared Redis database these benchmarks may use (bench/run.py uses /2).
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")
SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (0–1) of `values`, nearest rank; nan for none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def sql(database: str, statement: str, params: Any = None) -> list[tuple[Any, ...]]:
    with psycopg.connect(f"{SERVER}/{database}", autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def server_env(checkout: Path, database: str, **extra: str) -> dict[str, str]:
    """Production settings with throttling off (bench/settings.py), on `database`."""
    return {
        **os.environ,
        "DATABASE_URL": f"{SERVER}/{database}",
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "CONN_MAX_AGE": "600",
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "warning",
        "SITE_URL": "http://127.0.0.1",
        "PYTHONPATH": str(checkout),
        **extra,
    }


def python(checkout: Path) -> str:
    return str(checkout / ".venv" / "bin" / "python")


def migrate(checkout: Path, database: str, *, fresh: bool) -> None:
    """Create `database` (dropped first when `fresh`) and migrate it with `checkout`'s code."""
    exists = sql("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", (database,))
    if fresh and exists:
        sql("postgres", f'DROP DATABASE "{database}" WITH (FORCE)')
    if fresh or not exists:
        sql("postgres", f'CREATE DATABASE "{database}"')
    subprocess.run(
        [python(checkout), "manage.py", "migrate", "-v0"],
        cwd=checkout,
        env=server_env(checkout, database),
        check=True,
    )


def api_token(database: str, username: str = "bench-live") -> str:
    """A superuser's API token, written with SQL (the auth tables are the same at every commit
    these benchmarks compare)."""
    rows = sql(
        database,
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
                               is_staff, is_active, date_joined)
        VALUES ('!', true, %s, '', '', '', true, true, now())
        ON CONFLICT (username) DO UPDATE SET is_superuser = true
        RETURNING id
        """,
        (username,),
    )
    user_id = rows[0][0]
    key = secrets.token_hex(20)
    sql(database, "DELETE FROM authtoken_token WHERE user_id = %s", (user_id,))
    sql(
        database,
        "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, now(), %s)",
        (key, user_id),
    )
    return key


@dataclass
class Process:
    """A server or worker process started here, stopped by its own pid."""

    popen: subprocess.Popen[bytes]
    log_file: Path

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def compile_bytecode(checkout: Path) -> None:
    """As the image does at build time (bench/README.md, step 2)."""
    subprocess.run(
        [
            python(checkout),
            "-m",
            "compileall",
            "-q",
            "-j",
            "0",
            "-x",
            r"/\.venv/|/node_modules/",
            ".",
        ],
        cwd=checkout,
        check=False,
        stdout=subprocess.DEVNULL,
    )


@contextmanager
def gunicorn(
    checkout: Path,
    database: str,
    port: int,
    *,
    app: str = "config.wsgi:application",
    workers: int | None = None,
) -> Iterator[Process]:
    """gunicorn with the deployment's config/gunicorn.py, from `checkout`, on 127.0.0.1:`port`."""
    extra = {"BIND_ADDRESS": "127.0.0.1", "PORT": str(port)}
    if workers:
        extra["WEB_CONCURRENCY"] = str(workers)
    log_file = Path(f"/tmp/bench-live-gunicorn-{port}.log")
    with log_file.open("wb") as out:
        popen = subprocess.Popen(
            [str(checkout / ".venv" / "bin" / "gunicorn"), "-c", "config/gunicorn.py", app],
            cwd=checkout,
            env=server_env(checkout, database, **extra),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    process = Process(popen, log_file)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if popen.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn on {port} did not start; see {log_file}")
            time.sleep(0.3)
        yield process
    finally:
        process.stop()


@contextmanager
def huey_worker(checkout: Path, database: str) -> Iterator[Process]:
    """`manage.py run_huey` on the same settings (RedisHuey on REDIS_URL)."""
    log_file = Path("/tmp/bench-live-huey.log")
    with log_file.open("wb") as out:
        popen = subprocess.Popen(
            [python(checkout), "manage.py", "run_huey"],
            cwd=checkout,
            env=server_env(checkout, database),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    process = Process(popen, log_file)
    try:
        time.sleep(3)
        if popen.poll() is not None:
            raise SystemExit(f"run_huey stopped; see {log_file}")
        yield process
    finally:
        process.stop()


class Client:
    """One keep-alive connection to the server; `call` answers (status, seconds, body)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.headers = {
            "Authorization": f"Token {token}",
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, float, bytes]:
        payload = body if isinstance(body, bytes | None) else json.dumps(body).encode()
        began = time.perf_counter()
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=payload, headers=self.headers)
                response = self.connection.getresponse()
                data = response.read()
                return response.status, time.perf_counter() - began, data
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        status, _, data = self.call(method, path, body)
        if status != expect:
            raise SystemExit(f"{method} {path}: {status} {data[:300]!r}")
        return json.loads(data) if data else None


@dataclass
class LoadResult:
    """What a closed loop of clients did: requests, the seconds they ran, latencies, errors."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def closed_loop(
    port: int,
    token: str,
    request: Callable[[int, int], tuple[str, str, Any]],
    *,
    connections: int,
    seconds: float,
    expect: int,
) -> LoadResult:
    """`connections` clients each sending `request(client, n)` = (method, path, body) one after
    another for `seconds`; requests still running at the end are counted when they finish."""
    result = LoadResult(seconds=seconds)
    lock = threading.Lock()
    stop = threading.Event()

    def run(index: int) -> None:
        client = Client(port, token)
        n = 0
        latencies: list[float] = []
        errors = 0
        while not stop.is_set():
            method, path, body = request(index, n)
            n += 1
            status, took, _ = client.call(method, path, body)
            if status == expect:
                latencies.append(took)
            else:
                errors += 1
        with lock:
            result.latencies.extend(latencies)
            result.errors += errors

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    result.seconds = time.perf_counter() - began
    return result


def machine_note() -> str:
    """The load average and the CPU's busy share over 2 s, for a report's header."""

    def times() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(values), values[3] + values[4]

    total0, idle0 = times()
    time.sleep(2)
    total1, idle1 = times()
    busy = 1 - (idle1 - idle0) / max(1, total1 - total0)
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} cores, CPU {busy:.0%} busy in the 2 s before the run, load average "
        f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}"
    )
