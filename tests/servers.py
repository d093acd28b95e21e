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
    # The socket is bound here and handed to gunicorn (`fd://`): no other test, in this process
    # or in another pytest-xdist worker, can take its port between choosing and binding it.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = int(listener.getsockname()[1])
    log_path = log_dir / "server.log"
    with listener, log_path.open("w") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "gunicorn", "config.wsgi"),
                *("--bind", f"fd://{listener.fileno()}", "--workers", str(workers)),
                *("--timeout", "30", *options),
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(listener.fileno(),),
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


def unread(server_port: int, client_port: int) -> int | None:
    """The bytes the server's end of a loopback connection has received and its process not
    yet read, from the kernel's table (None while the connection is not listed: not yet
    established on the server's side). A request the server has read shows 0."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote, _, queues = line.split()[1:5]
        if (int(local.split(":")[1], 16), int(remote.split(":")[1], 16)) == (
            server_port,
            client_port,
        ):
            return int(queues.split(":")[1], 16)
    return None


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
        # Held once a worker has accepted the connection and read what was sent.
        client_port = int(self.socket.getsockname()[1])
        deadline = time.monotonic() + 20
        while unread(int(port), client_port) != 0:
            assert time.monotonic() < deadline, "no worker accepted the held request"
            time.sleep(0.01)

    def finish(self) -> int:
        """Send the rest of the request; its response's status."""
        self.socket.sendall(b"Connection: close\r\n\r\n")
        status = self.socket.makefile("rb").readline().split()[1]
        self.socket.close()
        return int(status)
