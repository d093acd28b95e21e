"""`make fuzz`: schemathesis against a live server on PostgreSQL, from our own OpenAPI schema.

Creates a fresh database (`FUZZ_DATABASE_URL`), migrates it, seeds a little demo data and a
superuser with an API token, starts gunicorn on it, and runs every operation of the schema
with a bounded number of examples, checking that nothing answers 5xx, that every status code
is one the schema documents and that every body matches the schema. Exits non-zero on any
failure; prints the figures docs/RELIABILITY.md quotes. Knobs (environment):

  FUZZ_DATABASE_URL   default postgres://postgres@127.0.0.1:5432/calibration_service_fuzz
  FUZZ_PORT           default: a free port
  FUZZ_MAX_EXAMPLES   examples per operation and phase (default 50)
  FUZZ_SEED           default 20251130 (reproducible in CI); `random` for a new one each run
  FUZZ_PHASES         default examples,coverage,fuzzing
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHECKS = os.environ.get(
    "FUZZ_CHECKS",
    "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        sys.exit(f"fuzz: refusing database name {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


SETUP = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="fuzzer", defaults={"is_staff": True, "is_superuser": True})
print("TOKEN", Token.objects.get_or_create(user=user)[0].key)
"""


def main() -> int:
    db_url = os.environ.get(
        "FUZZ_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/calibration_service_fuzz"
    )
    port = int(os.environ.get("FUZZ_PORT") or free_port())
    max_examples = os.environ.get("FUZZ_MAX_EXAMPLES", "50")
    seed = os.environ.get("FUZZ_SEED", "20251130")
    if seed == "random":
        seed = str(random.randrange(1, 2**31))
    phases = os.environ.get("FUZZ_PHASES", "examples,coverage,fuzzing")
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # The fuzzer is one user sending thousands of requests: throttling would be noise.
        "API_THROTTLE_RATE": "off",
        "PYTHONUNBUFFERED": "1",
    }
    started = time.monotonic()
    recreate_database(db_url)
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], env=env, check=True, cwd=ROOT)
    seed_help = subprocess.run(
        [*manage, "seed_demo", "--help"], env=env, cwd=ROOT, capture_output=True, text=True
    ).stdout
    # A little data is enough to reach every branch; a week of readings would only slow it.
    readings = ["--readings", "100"] if "--readings" in seed_help else []
    subprocess.run(
        [*manage, "seed_demo", "--calibrations", "40", *readings],
        env=env,
        check=True,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    out = subprocess.run(
        [*manage, "shell", "-c", SETUP],
        env=env,
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    ).stdout
    token = re.search(r"TOKEN (\w+)", out).group(1)  # type: ignore[union-attr]

    log = open(ROOT / "artifacts" / "fuzz-server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--timeout",
            "60",
        ],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            print("fuzz: the server did not become ready", file=sys.stderr)
            return 1
        report = ROOT / "artifacts" / "fuzz"
        shutil.rmtree(report, ignore_errors=True)
        command = [
            str(Path(PYTHON).parent / "st"),
            "run",
            f"{base}/api/schema/?format=json",
            "--url",
            base,
            "--header",
            f"Authorization: Token {token}",
            "--checks",
            CHECKS,
            "--phases",
            phases,
            "--max-examples",
            max_examples,
            "--seed",
            seed,
            # One worker: hypothesis parses lambda sources with `ast`, which CPython 3.11 does
            # not do safely from two threads at once ("AST constructor recursion depth
            # mismatch", a crash of the fuzzer, not of our API).
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--no-color",
            "--report",
            "junit",
            "--report-junit-path",
            str(report / "junit.xml"),
        ]
        print(f"fuzz: seed {seed}, {max_examples} examples per operation, phases {phases}")
        fuzz_started = time.monotonic()
        result = subprocess.run(
            command,
            cwd=ROOT,
            env={**os.environ, "NO_COLOR": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        print(result.stdout)
        fuzz_seconds = time.monotonic() - fuzz_started
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    summary = summarize(result.stdout)
    summary.update(
        seed=int(seed),
        max_examples=int(max_examples),
        fuzz_seconds=round(fuzz_seconds, 1),
        total_seconds=round(time.monotonic() - started, 1),
        exit_code=result.returncode,
    )
    (ROOT / "artifacts" / "fuzz-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print("fuzz summary:", json.dumps(summary))
    if result.returncode == 0 and not os.environ.get("FUZZ_KEEP_DATABASE"):
        drop_database(db_url)
    return result.returncode


def summarize(output: str) -> dict[str, object]:
    """Operations and test cases run, from schemathesis's closing summary."""
    summary: dict[str, object] = {}
    if match := re.search(r"Tested: (\d+)", output):
        summary["operations"] = int(match.group(1))
    if match := re.search(r"(\d+) generated", output):
        summary["test_cases"] = int(match.group(1))
    if match := re.search(r"found (\d+) unique failures?", output):
        summary["failures"] = int(match.group(1))
    else:
        summary["failures"] = 0
    return summary


if __name__ == "__main__":
    (ROOT / "artifacts").mkdir(exist_ok=True)
    sys.exit(main())
