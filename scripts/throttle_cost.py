"""What the API throttle costs per request, on the database cache and on Redis.

Not a timed test: a measurement to quote in docs/OPERATIONS.md. Run on a migrated database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cs_cost REDIS_URL=redis://127.0.0.1:6379/15 \\
        .venv/bin/python scripts/throttle_cost.py [--requests 2000]

For each cache (the database's table, Redis when REDIS_URL is set) it times, one user sending
requests back to back: the throttle alone (`allow_request`, as a view calls it), and whole
`GET /api/tags?page_size=1` requests through Django's test client with the throttle off and on. The difference
of the last two is what a request pays for being counted. It clears the cache it measures on:
give it a Redis database of its own.
"""

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import logging

import django
import redis

django.setup()
logging.disable(logging.WARNING)

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from config.api.throttling import UserRateThrottle  # noqa: E402

RATE = "2000/second"


def caches_to_measure() -> dict[str, dict[str, Any]]:
    """The database cache as configured without REDIS_URL, and Redis when it is set."""
    found: dict[str, dict[str, Any]] = {
        "database": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
            "OPTIONS": {"MAX_ENTRIES": 1000, "CULL_FREQUENCY": 3},
        }
    }
    if settings.REDIS_URL:
        found["redis"] = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.REDIS_URL,
        }
    return found


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1e6


def summary(times: list[float]) -> str:
    times = sorted(times)
    return f"{statistics.median(times):.0f} | {times[int(len(times) * 0.95)]:.0f}"


class SteppedClock:
    """A clock that moves `step` seconds per reading: a user sending 1/step requests a second."""

    def __init__(self, step: float) -> None:
        self.now = time.time()
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Meter:
    """SQL statements, and CPU seconds of this process, its PostgreSQL backend and Redis.

    CPU time is what a request costs the machine whatever else runs on it; wall time on a busy
    machine mostly measures the others. The backend's and Redis's are read from /proc and
    `INFO cpu` (both on this machine).
    """

    def __init__(self, redis_url: str) -> None:
        self.statements = 0
        self.calls = 0
        self.cpu = {"python": 0.0, "postgresql": 0.0, "redis": 0.0}
        self.redis = redis.Redis.from_url(redis_url) if redis_url else None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        return execute(sql, params, many, context)

    def _now(self) -> dict[str, float]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        info = self.redis.info("cpu") if self.redis else {}
        return {
            "python": time.process_time(),
            "postgresql": (int(fields[11]) + int(fields[12])) / ticks,
            "redis": float(info.get("used_cpu_user", 0)) + float(info.get("used_cpu_sys", 0)),
        }

    @contextmanager
    def measuring(self, calls: int) -> Iterator[None]:
        before = self._now()
        with connection.execute_wrapper(self):
            yield
        after = self._now()
        self.calls += calls
        for part in self.cpu:
            self.cpu[part] += after[part] - before[part]

    def row(self) -> str:
        us = {part: seconds / self.calls * 1e6 for part, seconds in self.cpu.items()}
        return (
            f"{us['python']:.0f} | {us['postgresql']:.0f} | {us['redis']:.0f} "
            f"| {sum(us.values()):.0f} | {self.statements / self.calls:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    n = args.requests

    user, _ = User.objects.get_or_create(username="throttle-cost")
    token = Token.objects.get_or_create(user=user)[0].key
    request = Request(APIRequestFactory().get("/api/tags"))
    request.user = user
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")
    view = APIView()
    real_timer = UserRateThrottle.timer

    print(f"{n} calls per row, one user, rate {RATE}. Wall µs per call (median, p95), then CPU")
    print("µs per call: this process, its PostgreSQL backend, Redis, in all; SQL statements.")
    print()
    print(
        "| cache | what | wall median | wall p95 | CPU Python | CPU PostgreSQL | CPU Redis "
        "| CPU in all | SQL |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, config in caches_to_measure().items():
        with override_settings(CACHES={"default": config}):
            UserRateThrottle.THROTTLE_RATES = {"user": RATE}
            for label, clock in (
                ("throttle alone, back to back", real_timer),
                ("throttle alone, 10 requests/second", staticmethod(SteppedClock(0.1))),
            ):
                cache.clear()
                time.sleep(1.1)  # an empty window
                UserRateThrottle.timer = clock
                meter = Meter(settings.REDIS_URL)
                with meter.measuring(n):
                    times = [
                        timed(lambda: UserRateThrottle().allow_request(request, view))
                        for _ in range(n)
                    ]
                UserRateThrottle.timer = real_timer
                print(f"| {name} | {label} | {summary(times)} | {meter.row()} |")

            # Whole requests, the throttle off and on in alternating blocks, so that what else
            # the machine does falls on both alike.
            cache.clear()
            time.sleep(1.1)
            measured: dict[str | None, tuple[list[float], Meter]] = {
                None: ([], Meter(settings.REDIS_URL)),
                RATE: ([], Meter(settings.REDIS_URL)),
            }
            for block in range(n // 25):
                rate = RATE if block % 2 else None
                UserRateThrottle.THROTTLE_RATES = {"user": rate}
                times, meter = measured[rate]
                with meter.measuring(25):
                    times.extend(
                        timed(lambda: client.get("/api/tags?page_size=1")) for _ in range(25)
                    )
            for rate, label in ((None, "GET /api/tags?page_size=1, off"), (RATE, "… on")):
                times, meter = measured[rate]
                print(f"| {name} | {label} | {summary(times)} | {meter.row()} |")
            cache.clear()


if __name__ == "__main__":
    main()
