"""Fixtures of the monitoring tests: clients that post readings and manage alarms, and a real
local HTTP server that receives webhooks."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.factories import UserFactory

T0 = datetime(2025, 4, 1, 10, 0, tzinfo=UTC)


class Receiver:
    """A webhook receiver on 127.0.0.1 (`port`, default any free one): records each JSON body
    POSTed to it as it arrives and answers with `status` after `delay` seconds."""

    def __init__(self, port: int = 0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.status = 200
        self.delay = 0.0
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with receiver._arrived:  # recorded on arrival, answered after `delay`
                    receiver.bodies.append(body)
                    receiver._arrived.notify_all()
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def wait_for(self, count: int, timeout: float = 20) -> list[dict[str, Any]]:
        """The bodies received, once there are at least `count` (or fail after `timeout`)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.bodies) >= count, timeout)
        assert arrived, f"{len(self.bodies)} of {count} webhooks arrived"
        return list(self.bodies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def manager(db: None) -> User:
    """Lab staff who post readings, set rooms' ranges and rules, and acknowledge alarms."""
    return UserFactory(
        username="manager",
        permissions=[
            "measurements.add_measurement",
            "measurements.change_room",
            "monitoring.change_alarm",
            "monitoring.view_notificationtarget",
            "monitoring.add_notificationtarget",
            "monitoring.change_notificationtarget",
        ],
    )


@pytest.fixture
def manager_client(client_for: Callable[[User], APIClient], manager: User) -> APIClient:
    return client_for(manager)
