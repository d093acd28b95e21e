"""The database goes away and comes back, under a real server process (DESIGN §4.1).

A gunicorn process serves the test database through a TCP proxy this test controls (never
the machine's PostgreSQL itself). While the proxy refuses, or swallows, connections the API
answers a JSON 503 with `Retry-After`, `/readyz` 503, `/healthz` 200, and nothing is stored;
when the proxy forwards again the same process answers 200 without a restart.
"""

import contextlib
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from calibrations.models import Calibration
from measurements.models import Measurement
from tests.factories import CalibrationFactory, CalibrationTypeFactory, UserFactory
from tests.servers import database_url, gunicorn

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
# The shortest connect timeout there is: libpq and psycopg read anything below 2 s as 2 s.
CONNECT_TIMEOUT = 2


class FaultyProxy:
    """A TCP proxy to PostgreSQL that can forward, refuse (close at once) or hang connections."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode = "forward"
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                client.close()
                continue
            with self.lock:
                self.sockets.add(client)
            if self.mode == "hang":
                continue  # accepted, never answered: the client's connect_timeout must fire
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets.add(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def set_mode(self, mode: str) -> None:
        """`forward`, `refuse` or `hang`; leaving `forward` cuts every open connection."""
        self.mode = mode
        if mode != "forward":
            with self.lock:
                for sock in self.sockets:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                self.sockets.clear()

    def close(self) -> None:
        self.stopped = True
        self.set_mode("refuse")
        self.listener.close()


@pytest.fixture(scope="module")
def proxied_server(
    django_db_setup: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[FaultyProxy, str]]:
    """gunicorn on the test database, reached only through the proxy: started once for this
    module's tests (it keeps no state of its own; the database is emptied after each test)."""
    settings = connection.settings_dict
    faulty = FaultyProxy((settings["HOST"] or "127.0.0.1", int(settings["PORT"] or 5432)))
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": database_url(port=faulty.port),
        "DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        "CONN_MAX_AGE": "60",  # persistent connections: the hard case for recovery
        "API_THROTTLE_RATE": "off",
    }
    try:
        with gunicorn(env, tmp_path_factory.mktemp("faults")) as base:
            yield faulty, base
    finally:
        faulty.close()


@pytest.fixture
def proxy(proxied_server: tuple[FaultyProxy, str]) -> FaultyProxy:
    """The proxy, forwarding as each test begins."""
    faulty, _ = proxied_server
    faulty.set_mode("forward")
    return faulty


@pytest.fixture
def server(proxy: FaultyProxy, proxied_server: tuple[FaultyProxy, str]) -> str:
    """The base URL of the gunicorn behind `proxy`."""
    return proxied_server[1]


def call(
    base: str, method: str, path: str, token: str | None = None, body: object = None
) -> tuple[int, dict[str, str], Any]:
    """One HTTP request: status, headers, decoded JSON body."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, headers, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, dict(error.headers), error.read()
    assert headers.get("Content-Type", "").startswith("application/json"), (path, raw[:200])
    return status, headers, json.loads(raw)


def test_the_api_answers_503_while_the_database_is_away_and_recovers_without_restart(
    proxy: FaultyProxy, server: str
) -> None:
    CalibrationTypeFactory(name="gain")
    calibration = CalibrationFactory()
    token = Token.objects.create(user=UserFactory(is_staff=True, is_superuser=True)).key
    new = {"calibration_type": "gain", "value": 2.5}
    reads = [
        "/api/calibrations",
        f"/api/calibrations/{calibration.pk}",
        f"/api/calibrations/{calibration.pk}/tags",
        "/api/tags",
        "/api/measurements/lab-1",
        "/api/measurements/lab-1/average/PT1H",
        "/api/rooms",
    ]

    assert call(server, "GET", "/readyz")[0] == 200
    assert call(server, "POST", "/api/measurements/lab-1", token, {"value": 20.0})[0] == 201
    for path in reads:
        assert call(server, "GET", path, token)[0] == 200, path
    assert call(server, "POST", "/api/calibrations", token, new)[0] == 201

    requests: list[tuple[str, str, object]] = [("GET", path, None) for path in reads]
    requests += [
        ("POST", "/api/calibrations", new),
        ("POST", f"/api/calibrations/{calibration.pk}/tags", {"tag": "during-outage"}),
        ("POST", "/api/measurements/lab-1", {"value": 21.5}),
        ("POST", "/api/measurements/lab-1", [{"value": 21.5, "timestamp": "2025-04-01T10:00:00Z"}]),
    ]
    under_fault = 0

    def assert_refused_fast(method: str, path: str, body: object) -> None:
        nonlocal under_fault
        started = time.monotonic()
        status, headers, answer = call(server, method, path, token, body)
        under_fault += 1
        assert status == 503, (proxy.mode, method, path, answer)
        assert answer == {"detail": "The database is unavailable; try again shortly."}
        assert headers["Retry-After"] == "5"
        assert time.monotonic() - started < CONNECT_TIMEOUT + 3, "did not fail fast"

    # Refused connections: every route, several times over (each costs nothing to wait for).
    proxy.set_mode("refuse")
    for _ in range(3):
        for method, path, body in requests:
            assert_refused_fast(method, path, body)
        status, _, answer = call(server, "GET", "/readyz")
        assert (status, answer["status"]) == (503, "unavailable")
        status, _, answer = call(server, "GET", "/healthz")
        assert (status, answer) == (200, {"status": "ok"})
        under_fault += 2
    # Hung connections (accepted, never answered): a read and a write each give up after the
    # connect timeout instead of holding the worker; liveness needs no database.
    proxy.set_mode("hang")
    assert_refused_fast("GET", "/api/calibrations", None)
    assert_refused_fast("POST", "/api/calibrations", new)
    status, _, answer = call(server, "GET", "/healthz")
    assert (status, answer) == (200, {"status": "ok"})
    under_fault += 1

    proxy.set_mode("forward")
    # The very first request after the database returns already succeeds: no restart, no retry.
    assert call(server, "GET", "/readyz")[0] == 200
    for path in reads:
        assert call(server, "GET", path, token)[0] == 200, path
    assert call(server, "POST", "/api/calibrations", token, new)[0] == 201
    # Nothing that was refused during the outage was stored.
    assert Calibration.objects.count() == 3
    assert Measurement.objects.count() == 1
    assert not Calibration.objects.filter(tag_assignments__tag__name="during-outage").exists()
    print(f"\nrequests under fault: {under_fault}")


def test_an_outage_in_the_middle_of_persistent_connections_is_survived(
    proxy: FaultyProxy, server: str
) -> None:
    token = Token.objects.create(user=UserFactory(username="reader")).key
    for cycle in range(3):
        assert call(server, "GET", "/api/tags", token)[0] == 200, cycle
        proxy.set_mode("refuse")  # cuts the server's open connection mid-life
        assert call(server, "GET", "/api/tags", token)[0] == 503, cycle
        proxy.set_mode("forward")
        assert call(server, "GET", "/api/tags", token)[0] == 200, cycle


def admin_page(base: str, session_key: str) -> tuple[int, str, bytes]:
    request = urllib.request.Request(base + "/admin/calibrations/calibration/")
    request.add_header("Cookie", f"sessionid={session_key}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_the_admin_answers_503_json_while_the_database_is_away_and_recovers(
    proxy: FaultyProxy, server: str
) -> None:
    from django.test import Client

    staff = UserFactory(username="staff", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    session_key = client.cookies["sessionid"].value
    assert admin_page(server, session_key)[0] == 200

    proxy.set_mode("refuse")
    status, content_type, body = admin_page(server, session_key)
    assert status == 503  # not Django's HTML 500 page
    assert content_type == "application/json"
    assert json.loads(body) == {"detail": "The database is unavailable; try again shortly."}

    proxy.set_mode("forward")
    status, content_type, body = admin_page(server, session_key)
    assert status == 200
    assert b"Select calibration to change" in body
