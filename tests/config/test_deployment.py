"""The production path: settings under a production environment, start-up commands, logs, probes.

Settings are module-level code read once per process, so production settings are exercised in a
fresh interpreter with an explicit environment (the repository's `.env`, if any, fills only what
is left unset, so every variable that matters is set here).
"""

import http.server
import io
import json
import logging
import os
import re
import runpy
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command

from config.logformat import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]

# What docs/OPERATIONS.md recommends behind a TLS-terminating proxy.
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "lab.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://lab.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    "DEBUG": "false",
    "TRUST_X_FORWARDED_PROTO": "true",
    "SECURE_SSL_REDIRECT": "true",
    "SESSION_COOKIE_SECURE": "true",
    "CSRF_COOKIE_SECURE": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "LOG_FORMAT": "json",
}


def run_python(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Runs the project's interpreter in the project folder with exactly `env` (plus PATH)."""
    # Coverage's own variables pass through, so the code run in the child is measured too.
    measure = {name: value for name, value in os.environ.items() if name.startswith("COVERAGE_")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", **measure, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def production_settings(env: dict[str, str], *names: str) -> dict[str, object]:
    """The values of `names` as production settings compute them under `env`."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}))"
    )
    result = run_python(env, "-c", code)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_passes_with_production_environment_values() -> None:
    result = run_python(PRODUCTION_ENV, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_when_a_security_flag_is_switched_off() -> None:
    result = run_python(
        {**PRODUCTION_ENV, "SESSION_COOKIE_SECURE": "false"},
        "manage.py", "check", "--deploy", "--fail-level", "WARNING",
    )  # fmt: skip
    assert result.returncode != 0
    assert "security.W012" in result.stderr


# Only what production requires; empty values stand for unset ones, so a developer's `.env`
# cannot fill them in.
REQUIRED_ONLY = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"],
    "ALLOWED_HOSTS": "lab.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
    **dict.fromkeys(
        (
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SESSION_COOKIE_SECURE",
            "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS",
            "TRUST_X_FORWARDED_PROTO",
        ),
        "",
    ),
}

# One request a client believes is HTTPS (the header a TLS-terminating proxy would set).
VIA_PROXY = """
import json, django
django.setup()
from django.test import Client
response = Client(HTTP_HOST="lab.example.org").get(
    "/api/calibrations", HTTP_X_FORWARDED_PROTO="https"
)
print(json.dumps({
    "status": response.status_code,
    "location": response.get("Location"),
    "hsts": response.get("Strict-Transport-Security"),
}))
"""


def request_via_proxy(env: dict[str, str]) -> dict[str, object]:
    result = run_python(env, "-c", VIA_PROXY)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_defaults_pass_the_deployment_checklist_with_only_the_required_variables() -> (
    None
):
    result = run_python(REQUIRED_ONLY, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_by_default_x_forwarded_proto_is_not_trusted_and_plain_http_goes_to_https() -> None:
    answer = request_via_proxy(REQUIRED_ONLY)
    assert (answer["status"], answer["location"]) == (
        301,
        "https://lab.example.org/api/calibrations",
    )


def test_behind_a_trusted_proxy_https_requests_are_served_with_the_configured_hsts() -> None:
    answer = request_via_proxy({**PRODUCTION_ENV, "SECURE_HSTS_SECONDS": "60"})
    assert answer["status"] == 401  # served (and refused for want of a token), not redirected
    assert answer["hsts"] == "max-age=60; includeSubDomains"


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set"),
    ],
)
def test_production_refuses_to_start_without_a_required_variable(
    missing: str, message: str
) -> None:
    result = run_python({**PRODUCTION_ENV, missing: ""}, "manage.py", "check")
    assert result.returncode != 0
    assert message in result.stderr
    assert "docs/OPERATIONS.md" in result.stderr


def test_production_logs_are_json_lines_on_stdout() -> None:
    code = (
        "import django, logging; django.setup(); log = logging.getLogger('calibrations'); "
        "log.warning('disk at %d%%', 91)\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('it broke')"
    )
    result = run_python(PRODUCTION_ENV, "-c", code)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("WARNING", "calibrations", "disk at 91%"),
        ("ERROR", "calibrations", "it broke"),
    ]
    assert "ZeroDivisionError" in lines[1]["exception"]
    assert lines[0]["time"].endswith("+00:00")


def test_gunicorn_access_lines_carry_the_request_as_fields() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gunicorn.access")
    logger.addHandler(handler)
    try:
        # As gunicorn logs a request: its access format applied to the request's atoms.
        atoms = {"h": "10.0.0.7", "m": "POST", "U": "/api/calibrations", "q": "", "s": "201"}
        logger.warning('%(h)s "%(m)s %(U)s" %(s)s', {**atoms, "B": 312, "D": 12345, "a": "curl"})
    finally:
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == '10.0.0.7 "POST /api/calibrations" 201'
    assert entry["method"] == "POST"
    assert entry["path"] == "/api/calibrations"
    assert entry["status"] == 201
    assert entry["duration_ms"] == 12.345
    assert "query" not in entry


def test_gunicorn_takes_workers_threads_and_port_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "PORT", "BIND_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    defaults = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert defaults["bind"] == "0.0.0.0:8000"
    assert 1 <= defaults["workers"] <= 8
    assert defaults["threads"] == 4
    assert defaults["accesslog"] == "-"

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "8")
    monkeypatch.setenv("PORT", "8123")
    configured = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
    assert (configured["workers"], configured["threads"], configured["bind"]) == (
        3,
        8,
        "0.0.0.0:8123",
    )


@pytest.mark.django_db
def test_wait_for_db_returns_once_the_database_answers(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("wait_for_db", "--timeout", "5")
    assert "is ready" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--timeout", "-1"], "--timeout must be 0 or more seconds."),
        (["--interval", "0"], "--interval must be more than 0 seconds."),
        (["--database", "nowhere"], "Unknown database alias 'nowhere'."),
    ],
)
def test_wait_for_db_refuses_bad_arguments_with_a_clear_message(
    args: list[str], message: str
) -> None:
    with pytest.raises(CommandError) as refused:
        call_command("wait_for_db", *args)
    assert str(refused.value) == message


def test_wait_for_db_gives_up_after_its_timeout_with_a_clear_message() -> None:
    # Nothing listens on port 9 (discard) locally; the password must not leak into the message.
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "SECRET_KEY": "x",
        "DATABASE_URL": "postgres://someone:hunter2@127.0.0.1:9/nowhere",
    }
    result = run_python(env, "manage.py", "wait_for_db", "--timeout", "1", "--interval", "0.2")
    assert result.returncode == 1
    assert "Database postgresql 127.0.0.1:9/nowhere did not answer within 1 s" in result.stderr
    assert "Last error:" in result.stderr
    assert "Traceback" not in result.stderr
    assert "hunter2" not in result.stdout + result.stderr


@pytest.fixture
def probe_target() -> Iterator[tuple[int, list[str], list[int]]]:
    """A local HTTP server answering each request with the next status; records Host headers.

    Not Django's live server: the script is tested against real gunicorn by `make smoke`, and
    a live server here would flush the migrated data other live-server tests read.
    """
    hosts: list[str] = []
    statuses: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(f"{self.headers['Host']} {self.path}")
            self.send_response(statuses.pop(0))
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hosts, statuses
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_script_presents_an_allowed_host_and_needs_a_200(
    probe_target: tuple[int, list[str], list[int]],
) -> None:
    port, hosts, statuses = probe_target
    statuses.extend([200, 503])
    up = run_python(
        {"PORT": str(port), "ALLOWED_HOSTS": ".example.org,localhost"}, "scripts/healthcheck.py"
    )
    assert up.returncode == 0, up.stderr
    down = run_python({"PORT": str(port), "ALLOWED_HOSTS": "*"}, "scripts/healthcheck.py")
    assert down.returncode == 1
    # `.example.org` allows example.org itself; `*` allows anything.
    assert hosts == ["example.org /healthz", "localhost /healthz"]
    closed = run_python({"PORT": "9", "ALLOWED_HOSTS": "localhost"}, "scripts/healthcheck.py")
    assert closed.returncode == 1
    assert "unhealthy" in closed.stderr


# Where the service reads its environment, and how each kind of file spells a read.
ENV_READS = {
    "config/settings/*.py": r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]*)["']""",
    "config/gunicorn.py": r"""(?:environ\.get|_int)\(\s*["']([A-Z][A-Z0-9_]*)["']""",
    "scripts/healthcheck.py": r"""environ\.get\(\s*["']([A-Z][A-Z0-9_]*)["']""",
    "scripts/entrypoint.sh": r"\$\{([A-Z][A-Z0-9_]*)[:}]",
    "docker-compose.yml": r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)[:}]",
}


def environment_variables_read() -> set[str]:
    names: set[str] = set()
    for pattern, regex in ENV_READS.items():
        files = sorted(ROOT.glob(pattern))
        assert files, pattern
        for path in files:
            names.update(re.findall(regex, path.read_text(encoding="utf-8")))
    return names


def test_every_environment_variable_read_is_in_env_example_and_operations_doc() -> None:
    names = environment_variables_read()
    # The scan itself must see reads of every kind, or it would pass by finding nothing.
    assert {"SECRET_KEY", "SECURE_HSTS_SECONDS", "WEB_CONCURRENCY", "MIGRATE_ON_START"} <= names
    assert {"POSTGRES_PASSWORD", "APP_PORT"} <= names
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    operations = (ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    missing_example = sorted(
        n for n in names if not re.search(rf"^#? ?{n}=", example, flags=re.MULTILINE)
    )
    missing_doc = sorted(n for n in names if f"| `{n}` |" not in operations)
    assert missing_example == [], "add these to .env.example"
    assert missing_doc == [], "add these to the configuration table of docs/OPERATIONS.md"


# No Docker engine runs in CI: hadolint and compose validate syntax (make lint-docker), the smoke
# run exercises the entrypoint; these hold the promises of the image and the stack themselves.


def test_the_image_is_multi_stage_locked_non_root_and_health_checked() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    instructions = [
        line.split(None, 1) for line in re.sub(r"\\\n\s*", " ", dockerfile).splitlines()
    ]
    instructions = [i for i in instructions if i and not i[0].startswith("#")]
    stages = [args for op, args in instructions if op == "FROM"]
    assert len(stages) >= 2
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "uv sync --frozen --no-dev" in runs
    assert "collectstatic" in runs
    users = [args.strip() for op, args in instructions if op == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    (healthcheck,) = [args for op, args in instructions if op == "HEALTHCHECK"]
    assert "scripts/healthcheck.py" in healthcheck
    assert "/healthz" in (ROOT / "scripts" / "healthcheck.py").read_text(encoding="utf-8")
    (entrypoint,) = [args for op, args in instructions if op == "ENTRYPOINT"]
    assert "scripts/entrypoint.sh" in entrypoint


def test_compose_runs_postgres_with_a_volume_and_starts_the_app_once_it_is_healthy() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    db, app = compose["services"]["db"], compose["services"]["app"]
    image, _, tag = db["image"].partition(":")
    assert image == "postgres"
    assert int(tag.split("-")[0].split(".")[0]) >= 17
    volume = db["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert app["env_file"] == ".env"
    assert any(str(port).endswith(":${PORT:-8000}") for port in app["ports"])
    seed = compose["services"]["seed"]
    assert seed["command"][-1] == "seed_demo"
