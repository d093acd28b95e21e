"""The API throttle: DRF's per-user rate, counted in a cache every server process shares.

The cache is Redis when `REDIS_URL` is set, else a table that `migrate` creates. Tests that
need Redis skip on a machine without `REDIS_URL` and fail in CI, which always sets it.
"""

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calibrations.models import Calibration
from config.api.throttling import UserRateThrottle
from tests.factories import CalibrationTypeFactory, UserFactory
from tests.servers import PRODUCTION, HeldRequest, database_url, free_port, gunicorn

ROOT = Path(__file__).resolve().parents[2]
DATABASE_CACHE = {
    "BACKEND": "django.core.cache.backends.db.DatabaseCache",
    "LOCATION": "django_cache",
}


@pytest.fixture(params=["database", "redis"])
def shared_cache(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each cache the throttle may count in, with keys no other test or run uses."""
    if request.param == "redis":
        config = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": request.getfixturevalue("redis_url"),
        }
    else:
        config = DATABASE_CACHE
    with override_settings(CACHES={"default": {**config, "KEY_PREFIX": uuid.uuid4().hex}}):
        yield request.param


class Clock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freezes the throttle's clock (DRF's `timer` hook): no window slides during a test."""
    frozen = Clock()
    monkeypatch.setattr(UserRateThrottle, "timer", staticmethod(frozen))
    return frozen


@pytest.fixture
def set_rate(monkeypatch: pytest.MonkeyPatch) -> Callable[[str | None], None]:
    """Sets the per-user rate; DRF reads `DEFAULT_THROTTLE_RATES` once, at import."""

    def set_to(rate: str | None) -> None:
        monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", {"user": rate})

    return set_to


@pytest.mark.django_db
def test_a_user_over_the_rate_gets_429_with_retry_after_until_the_window_slides(
    shared_cache: str,
    clock: Clock,
    set_rate: Callable[[str | None], None],
    client_for: Callable[[User], APIClient],
) -> None:
    set_rate("3/minute")
    CalibrationTypeFactory(name="gain")
    busy = UserFactory(username="busy", permissions=["calibrations.add_calibration"])
    client = client_for(busy)
    assert [client.get("/api/tags").status_code for _ in range(3)] == [200, 200, 200]

    refused = client.get("/api/tags")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert "throttled" in refused.json()["detail"].lower()
    # The clock stands still: the first request leaves the window in exactly one minute.
    assert refused["Retry-After"] == "60"

    # Writes count too: a user who may write is refused, and nothing is stored.
    body = {"calibration_type": "gain", "value": 1}
    assert client.post("/api/calibrations", body, format="json").status_code == 429
    assert not Calibration.objects.exists()

    # The limit is per user.
    assert client_for(UserFactory(username="calm")).get("/api/tags").status_code == 200

    clock.now += 59
    assert client.get("/api/tags").status_code == 429
    clock.now += 1
    assert client.post("/api/calibrations", body, format="json").status_code == 201
    assert Calibration.objects.count() == 1


@pytest.mark.django_db
def test_while_redis_is_unreachable_requests_are_let_through_and_logged(
    set_rate: Callable[[str | None], None],
    client_for: Callable[[User], APIClient],
    caplog: pytest.LogCaptureFixture,
) -> None:
    set_rate("1/minute")
    nobody_listens = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    with override_settings(CACHES={"default": nobody_listens}):
        client = client_for(UserFactory(username="steady"))
        assert [client.get("/api/tags").status_code for _ in range(3)] == [200, 200, 200]
    assert "Redis unreachable, request let through" in caplog.text


@pytest.mark.django_db
def test_throttling_can_be_switched_off(
    clock: Clock, set_rate: Callable[[str | None], None], client_for: Callable[[User], APIClient]
) -> None:
    set_rate(None)
    client = client_for(UserFactory(username="bench"))
    assert {client.get("/api/tags").status_code for _ in range(30)} == {200}


def settings_in_a_new_process(code: str, **environ: str) -> str:
    """What `code` prints in a fresh process with `environ` (`<unset>` removes a variable)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", **environ}
    env = {name: value for name, value in env.items() if value != "<unset>"}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("off", None), ("OFF", None), ("", "2000/second"), ("100/minute", "100/minute")],
)
def test_the_throttle_rate_comes_from_the_environment(value: str, expected: str | None) -> None:
    code = (
        "from config.api.throttling import UserRateThrottle; print(repr(UserRateThrottle().rate))"
    )
    assert settings_in_a_new_process(code, API_THROTTLE_RATE=value) == repr(expected)


def test_the_default_rate_does_not_disturb_normal_use() -> None:
    count, _, period = settings.API_THROTTLE_RATE.partition("/")
    # Above what this service serves per second on its machine, so only abuse meets it.
    assert int(count) >= 1000
    assert period.startswith("s")


def test_the_shared_cache_is_redis_when_redis_url_is_set_and_the_database_otherwise(
    redis_url: str,
) -> None:
    code = (
        "from django.core.cache import caches; "
        "caches['default'].set('probe', 1, 5); "
        "print(type(caches['default']).__name__, caches['default'].get('probe'))"
    )
    assert settings_in_a_new_process(code, **PRODUCTION, REDIS_URL=redis_url) == "RedisCache 1"
    code = "from django.core.cache import caches; print(type(caches['default']).__name__)"
    assert settings_in_a_new_process(code, **PRODUCTION, REDIS_URL="") == "DatabaseCache"


@pytest.mark.django_db(transaction=True)
def test_migrate_alone_creates_the_cache_table_and_unapplying_drops_it() -> None:
    call_command("migrate", "config", "zero", verbosity=0)
    assert "django_cache" not in connection.introspection.table_names()
    call_command("migrate", "config", verbosity=0)
    assert "django_cache" in connection.introspection.table_names()
    # A second run finds the table there (as the test runner's `createcachetable` does).
    call_command("createcachetable", verbosity=0)


# --- the limit holds across gunicorn workers --------------------------------------------------

LIMIT = 5


@pytest.fixture
def two_workers(shared_cache: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """gunicorn with two sync workers, production settings, the test database, `LIMIT`/minute."""
    env = {
        **PRODUCTION,
        "DATABASE_URL": database_url(),
        "API_THROTTLE_RATE": f"{LIMIT}/minute",
        "REDIS_URL": os.environ["REDIS_URL"] if shared_cache == "redis" else "",
    }
    access_log = tmp_path / "access.log"
    # The worker's pid beside each status: which process answered, without a header.
    options = ("--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s")
    with gunicorn(env, tmp_path, workers=2, options=options) as base:
        yield base, access_log


def get(base: str, token: str) -> tuple[int, str | None]:
    """`GET /api/tags` on a new connection: status and `Retry-After`."""
    request = urllib.request.Request(
        base + "/api/tags", headers={"Authorization": f"Token {token}"}
    )
    try:
        # Generous: on a busy machine the second worker may still be booting.
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


class StoredCounts:
    """The throttle's entry for one user where the server keeps it (no key prefix, version 1)."""

    def __init__(self, shared_cache: str, user: User) -> None:
        self.shared_cache = shared_cache
        self.key = f":1:throttle_user_{user.pk}"

    def keys(self) -> list[str]:
        if self.shared_cache == "redis":
            client = redis.Redis.from_url(os.environ["REDIS_URL"], decode_responses=True)
            return list(client.keys(self.key))
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key FROM django_cache WHERE cache_key = %s", [self.key])
            return [row[0] for row in cursor.fetchall()]

    def forget(self) -> None:
        """An earlier run's test database may have had a user with the same id."""
        if self.shared_cache == "redis":
            redis.Redis.from_url(os.environ["REDIS_URL"]).delete(self.key)
        else:
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM django_cache WHERE cache_key = %s", [self.key])


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_the_limit_holds_across_two_gunicorn_workers(
    two_workers: tuple[str, Path], shared_cache: str
) -> None:
    base, access_log = two_workers
    user = UserFactory(username="many-workers")
    token = Token.objects.create(user=user).key
    counts = StoredCounts(shared_cache, user)
    counts.forget()

    # While one worker waits on the held request, the other answers every other request.
    held = HeldRequest(base, "/api/tags", token)
    answers = [get(base, token) for _ in range(LIMIT - 2)]
    held_status = held.finish()
    answers += [get(base, token) for _ in range(LIMIT + 3)]

    # LIMIT requests allowed in all, whichever worker answered: LIMIT - 2, the held one, one more.
    assert held_status == 200
    assert [status for status, _ in answers] == [200] * (LIMIT - 1) + [429] * (LIMIT + 2)
    assert all(0 < int(retry or 0) <= 60 for status, retry in answers if status == 429)
    served = [line.split() for line in access_log.read_text().splitlines()]
    assert len({pid for pid, status in served if status == "200"}) == 2, served
    # Counted where the settings say: Redis with REDIS_URL, the database's table without.
    assert counts.keys() == [counts.key]
