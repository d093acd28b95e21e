"""gunicorn in a child process on the test database: for tests that need real workers."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]

# Production settings, as a deployment runs them: only what they require, and plain HTTP.
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": "test-only-not-secret",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SECURE_SSL_REDIRECT": "false",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def database_url(port: int | None = None) -> str:
    """The test database's URL, optionally through another port (a proxy in front of it)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = "127.0.0.1" if port else db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER'] or 'postgres'}{password}@{host}:{port or db['PORT'] or 5432}/{db['NAME']}"


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], log_dir: Path, workers: int = 1, options: Sequence[str] = ()
) -> Iterator[str]:
    """`gunicorn config.wsgi` with `env` over this process's environment: its base URL once
    `/healthz` answers; stopped (the whole process group) on leaving."""
    port = free_port()
    log_path = log_dir / "server.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "30"),
                *options,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(base + "/healthz", timeout=2) as response,
                ):
                    if response.status == 200:
                        break
                time.sleep(0.1)
            else:
                pytest.fail("the server did not start: " + log_path.read_text())
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class HeldRequest:
    """`GET path` with a token on a new connection, stopped before its headers end: the sync
    gunicorn worker that accepted it serves nobody else until `finish()` sends the rest, so
    meanwhile every other request goes to another worker (the kernel's choice of worker, which
    the tests cannot steer, no longer matters)."""

    def __init__(self, base: str, path: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.socket = socket.create_connection((host, int(port)), timeout=20)
        self.socket.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Token {token}\r\n".encode()
        )
        time.sleep(0.5)  # accepted by one worker by now

    def finish(self) -> int:
        """Send the rest of the request; its response's status."""
        self.socket.sendall(b"Connection: close\r\n\r\n")
        status = self.socket.makefile("rb").readline().split()[1]
        self.socket.close()
        return int(status)
