"""The worker from outside, as it runs: gunicorn serving the API and `manage.py run_huey`
delivering, both real processes on the test database, a real webhook receiver. Faults are made
for real: the worker SIGKILLed mid-delivery, Redis restarted, the receiver away through three
attempts. Every notification still ends `sent` (at least once: a receiver drops repeats by id)."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from measurements.services import reading_record, room_update
from monitoring.models import Notification
from monitoring.services import target_create
from tests.factories import UserFactory
from tests.monitoring.conftest import Receiver
from tests.servers import PRODUCTION, ROOT, database_url, free_port, gunicorn

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def environment(tmp_path: Path, redis_url: str = "") -> dict[str, str]:
    return {
        **PRODUCTION,
        "DATABASE_URL": database_url(),
        "API_THROTTLE_RATE": "off",
        "REDIS_URL": redis_url,
        "HUEY_FILE": str(tmp_path / "huey.sqlite3"),
        "NOTIFY_RETRY_SECONDS": "1",
        "LOG_FORMAT": "plain",
    }


@contextlib.contextmanager
def worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`manage.py run_huey` in its own process group; stopped on leaving."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "run_huey"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def post_reading(base: str, key: str, room_id: str, value: float) -> int:
    request = urllib.request.Request(
        f"{base}/api/measurements/{room_id}",
        data=json.dumps({"value": value}).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return int(response.status)


def rooms_with_range(*room_ids: str) -> None:
    for room_id in room_ids:
        reading_record(room_id=room_id, value=20.0, timestamp=timezone.now() - timedelta(hours=1))
        room_update(room=room_id, min_c=18.0, max_c=22.0)


def sender_key() -> str:
    user = UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    return Token.objects.create(user=user).key


def all_sent(timeout: float) -> list[dict[str, Any]]:
    """Every notification's state once none is pending (or fail after `timeout`)."""
    deadline = time.monotonic() + timeout
    while Notification.objects.exclude(state="sent").exists():
        assert time.monotonic() < deadline, list(
            Notification.objects.values("id", "state", "attempts", "last_error")
        )
        time.sleep(0.2)
    return list(Notification.objects.values("id", "state", "attempts"))


def test_an_alarm_raised_through_the_api_is_delivered_by_the_worker(
    tmp_path: Path, receiver: Receiver
) -> None:
    target_create(name="hook", url=receiver.url, events=["raised", "cleared"])
    rooms_with_range("lab-1")
    key = sender_key()
    env = environment(tmp_path)
    with gunicorn(env, tmp_path) as base, worker(env, tmp_path / "worker.log"):
        assert post_reading(base, key, "lab-1", 25.0) == 201
        assert post_reading(base, key, "lab-1", 20.0) == 201
        bodies = receiver.wait_for(2, timeout=30)
    assert sorted(b["event"] for b in bodies) == ["cleared", "raised"]
    assert all(n["state"] == "sent" for n in all_sent(timeout=60))


def test_a_worker_killed_mid_delivery_leaves_its_notification_to_the_next_one(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.delay = 8  # the first delivery is still waiting for its answer when killed
    target_create(name="hook", url=receiver.url, events=["raised"])
    rooms_with_range("lab-1", "lab-2", "lab-3")
    key = sender_key()
    env = environment(tmp_path)
    log = tmp_path / "worker.log"
    with gunicorn(env, tmp_path) as base:
        with worker(env, log) as first:
            for room_id in ("lab-1", "lab-2", "lab-3"):
                assert post_reading(base, key, room_id, 25.0) == 201
            receiver.wait_for(1, timeout=30)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        receiver.delay = 0
        with worker(env, log):
            states = all_sent(timeout=60)
    assert len(states) == 3
    ids = {b["notification_id"] for b in receiver.bodies}
    assert ids == {n["id"] for n in states}  # every one arrived; some maybe twice


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    """A Redis of this test's own (so restarting it disturbs nobody): its URL and a restart."""
    log = tmp_path / "redis.log"
    state: dict[str, Any] = {}

    def start() -> bool:
        """Started on `state["port"]`, once it says it is ready; False if it could not listen
        there (another process took the port meanwhile)."""
        log.write_text("")
        command = ["redis-server", "--port", str(state["port"]), "--save", "", "--appendonly", "no"]
        with log.open("a") as out:
            state["process"] = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while "Ready to accept connections" not in log.read_text():
            if state["process"].poll() is not None:
                return False
            assert time.monotonic() < deadline, "redis-server did not start: " + log.read_text()
            time.sleep(0.02)
        return True

    def restart() -> None:
        assert start(), "redis-server could not listen again: " + log.read_text()

    def stop() -> None:
        state["process"].kill()
        state["process"].wait(timeout=10)

    for _ in range(5):
        state["port"] = free_port()
        if start():
            break
    else:
        pytest.fail("redis-server did not start: " + log.read_text())
    yield f"redis://127.0.0.1:{state['port']}/0", (stop, restart)
    stop()


def test_alarms_raised_while_redis_restarts_are_all_delivered(
    tmp_path: Path, receiver: Receiver, own_redis: tuple[str, Any]
) -> None:
    url, (stop_redis, start_redis) = own_redis
    target_create(name="hook", url=receiver.url, events=["raised"])
    rooms = [f"lab-{n}" for n in range(6)]
    rooms_with_range(*rooms)
    key = sender_key()
    env = environment(tmp_path, redis_url=url)
    with gunicorn(env, tmp_path) as base, worker(env, tmp_path / "worker.log"):
        for room_id in rooms[:2]:
            assert post_reading(base, key, room_id, 25.0) == 201
        receiver.wait_for(2, timeout=30)
        stop_redis()  # the queue, and whatever it held, is gone
        for room_id in rooms[2:4]:
            assert post_reading(base, key, room_id, 25.0) == 201  # the outbox keeps them
        start_redis()  # empty
        for room_id in rooms[4:]:
            assert post_reading(base, key, room_id, 25.0) == 201
        # The minute's sweep hands over again what the lost queue held.
        states = all_sent(timeout=150)
    assert len(states) == 6
    assert {b["notification_id"] for b in receiver.bodies} == {n["id"] for n in states}


def test_a_receiver_away_for_three_attempts_gets_its_notification_when_it_returns(
    tmp_path: Path,
) -> None:
    port = free_port()
    target_create(name="hook", url=f"json://127.0.0.1:{port}/hook", events=["raised"])
    rooms_with_range("lab-1")
    key = sender_key()
    env = environment(tmp_path)
    with gunicorn(env, tmp_path) as base, worker(env, tmp_path / "worker.log"):
        assert post_reading(base, key, "lab-1", 25.0) == 201
        # The receiver is away until the worker has tried three times (after 0, 1 and 3 s with
        # NOTIFY_RETRY_SECONDS=1): the fault the test is about, its end the worker's own record.
        deadline = time.monotonic() + 60
        while (away := Notification.objects.get()).attempts < 3:
            assert time.monotonic() < deadline, (away.state, away.attempts, away.last_error)
            time.sleep(0.2)
        assert away.state == "pending", away.last_error
        receiver = Receiver(port)
        try:
            [notification] = all_sent(timeout=90)
            assert receiver.bodies[0]["notification_id"] == notification["id"]
        finally:
            receiver.close()
