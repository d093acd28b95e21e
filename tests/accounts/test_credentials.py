"""The credentials cache (accounts/credentials.py, docs/OPERATIONS.md): an API token, its user
and their permissions are read from the database once, then from the shared cache, until any
change to an account ends them — at once, and in every worker."""

import base64
import io
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
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authtoken.models import Token, TokenProxy
from rest_framework.test import APIClient

from accounts.credentials import new_generation
from calibrations.models import Calibration
from tests.factories import CalibrationTypeFactory, UserFactory
from tests.servers import PRODUCTION, ROOT, HeldRequest, database_url, free_port, gunicorn

CALIBRATION = {"calibration_type": "gain", "value": 1.5}


def account_queries(client: APIClient) -> list[str]:
    """The statements one `GET /api/tags` runs on the tables that say who a token is."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/tags").status_code == 200
    return [
        q["sql"]
        for q in queries.captured_queries
        if "authtoken_token" in q["sql"] or "auth_permission" in q["sql"]
    ]


@pytest.mark.django_db
def test_a_token_is_read_once_then_answered_from_the_cache(
    client_for: Callable[[User], APIClient],
) -> None:
    client = client_for(UserFactory(username="alice"))
    # The token with its user, the user's permissions, their groups' permissions.
    assert len(account_queries(client)) == 3
    assert account_queries(client) == []
    assert account_queries(client) == []


@pytest.mark.django_db
def test_with_no_cache_time_every_request_reads_the_token(
    client_for: Callable[[User], APIClient],
) -> None:
    client = client_for(UserFactory(username="alice"))
    with override_settings(API_CREDENTIALS_CACHE_SECONDS=0):
        # The sensor rule needs the permissions on every request, reads included.
        assert len(account_queries(client)) == 3
        assert len(account_queries(client)) == 3


@pytest.mark.django_db
def test_a_deleted_or_rotated_token_is_refused_on_the_next_request(
    client_for: Callable[[User], APIClient],
) -> None:
    alice = UserFactory(username="alice")
    client = client_for(alice)
    old_key = Token.objects.get(user=alice).key
    assert client.get("/api/tags").status_code == 200

    call_command("drf_create_token", "-r", "alice", stdout=io.StringIO())
    assert client.get("/api/tags").status_code == 401
    renewed = APIClient()
    renewed.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=alice).key}")
    assert renewed.get("/api/tags").status_code == 200

    Token.objects.filter(user=alice).delete()
    assert renewed.get("/api/tags").status_code == 401
    assert not Token.objects.filter(key=old_key).exists()


@pytest.mark.django_db
def test_a_token_deleted_on_the_admins_tokens_page_is_refused_on_the_next_request(
    client_for: Callable[[User], APIClient], superuser: User
) -> None:
    admin = Client()
    admin.force_login(superuser)  # signing in saves the user: before the token is cached
    alice = UserFactory(username="alice")
    client = client_for(alice)
    assert client.get("/api/tags").status_code == 200
    token = TokenProxy.objects.get(user=alice)
    response = admin.post(
        reverse("admin:authtoken_tokenproxy_delete", args=[token.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not Token.objects.filter(user=alice).exists()
    assert client.get("/api/tags").status_code == 401


@pytest.mark.django_db
def test_a_token_given_to_another_user_through_the_admins_model_acts_as_that_user(
    client_for: Callable[[User], APIClient],
) -> None:
    alice = UserFactory(username="alice", permissions=["calibrations.add_calibration"])
    bob = UserFactory(username="bob")
    CalibrationTypeFactory(name="gain")
    client = client_for(alice)
    assert client.post("/api/calibrations", CALIBRATION, format="json").status_code == 201
    token = TokenProxy.objects.get(user=alice)  # the model of Auth Token → Tokens
    token.user = bob
    token.save()
    assert client.post("/api/calibrations", CALIBRATION, format="json").status_code == 403


@pytest.mark.django_db
def test_a_deactivated_user_is_refused_on_the_next_request(
    client_for: Callable[[User], APIClient],
) -> None:
    alice = UserFactory(username="alice")
    client = client_for(alice)
    assert client.get("/api/tags").status_code == 200
    alice.is_active = False
    alice.save()
    response = client.get("/api/tags")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


@pytest.mark.django_db
def test_permissions_follow_group_and_user_changes_on_the_next_request(
    client_for: Callable[[User], APIClient],
) -> None:
    CalibrationTypeFactory(name="gain")
    add = Permission.objects.get(content_type__app_label="calibrations", codename="add_calibration")
    recorders = Group.objects.create(name="recorders")
    alice = UserFactory(username="alice")
    client = client_for(alice)

    def create() -> int:
        return client.post("/api/calibrations", CALIBRATION, format="json").status_code

    assert create() == 403
    recorders.permissions.add(add)
    assert create() == 403  # the group has it; alice is not in the group yet
    alice.groups.add(recorders)
    assert create() == 201
    recorders.permissions.remove(add)
    assert create() == 403
    alice.user_permissions.add(add)
    assert create() == 201
    alice.user_permissions.clear()
    assert create() == 403
    recorders.permissions.add(add)
    assert create() == 201
    recorders.delete()
    assert create() == 403
    assert Calibration.objects.count() == 3


@pytest.mark.django_db
def test_a_sensor_account_turned_into_a_writer_may_read_at_once(
    client_for: Callable[[User], APIClient],
) -> None:
    gateway = UserFactory(username="gateway", permissions=["measurements.add_measurement"])
    client = client_for(gateway)
    assert client.get("/api/tags").status_code == 403  # a sensor account reads nothing
    gateway.user_permissions.add(
        Permission.objects.get(content_type__app_label="calibrations", codename="add_calibration")
    )
    assert client.get("/api/tags").status_code == 200


@pytest.mark.django_db
def test_a_change_around_django_waits_for_the_entry_or_a_new_generation(
    client_for: Callable[[User], APIClient],
) -> None:
    alice = UserFactory(username="alice")
    client = client_for(alice)
    assert client.get("/api/tags").status_code == 200
    # QuerySet.update() sends no signal: the cached entry still answers (the documented bound:
    # API_CREDENTIALS_CACHE_SECONDS) until an operator starts a new generation.
    User.objects.filter(pk=alice.pk).update(is_active=False)
    assert client.get("/api/tags").status_code == 200
    new_generation()
    assert client.get("/api/tags").status_code == 401


@pytest.mark.django_db
def test_while_redis_is_unreachable_tokens_are_read_from_the_database(
    client_for: Callable[[User], APIClient], caplog: pytest.LogCaptureFixture
) -> None:
    nobody_listens = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
    with override_settings(CACHES={"default": nobody_listens}, API_THROTTLE_RATE=None):
        alice = UserFactory(username="alice")  # its signal cannot reach Redis either
        client = client_for(alice)
        assert [client.get("/api/tags").status_code for _ in range(2)] == [200, 200]
        Token.objects.filter(user=alice).delete()
        assert client.get("/api/tags").status_code == 401
    assert "credentials: Redis unreachable, read from the database" in caplog.text
    assert "credentials: Redis unreachable, cached credentials not ended" in caplog.text


# --- every worker sees a change made by another process ----------------------------------------


@pytest.fixture(params=["database", "redis"])
def server_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Production settings on the test database, the shared cache being each kind in turn."""
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    return {
        **PRODUCTION,
        "DATABASE_URL": database_url(),
        "API_THROTTLE_RATE": "off",
        "REDIS_URL": redis_url,
    }


@pytest.fixture
def two_workers(server_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, Path]]:
    access_log = tmp_path / "access.log"
    options = ("--access-logfile", str(access_log), "--access-logformat", "%(p)s %(s)s")
    with gunicorn(server_env, tmp_path, workers=2, options=options) as base:
        yield base, access_log


def status_of(base: str, key: str) -> int:
    request = urllib.request.Request(base + "/api/tags", headers={"Authorization": f"Token {key}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_a_token_rotated_by_a_command_is_refused_by_every_worker_at_once(
    two_workers: tuple[str, Path], server_env: dict[str, str]
) -> None:
    base, access_log = two_workers
    username = f"gateway-{uuid.uuid4().hex[:8]}"
    old_key = Token.objects.create(user=UserFactory(username=username)).key
    # Both workers answer, and so cache the token: one holds a request while the other answers.
    held = HeldRequest(base, "/api/tags", old_key)
    assert status_of(base, old_key) == 200
    assert held.finish() == 200
    # A worker logs a request just after answering it: wait for the held one's line.
    deadline = time.monotonic() + 10
    while len(pids := {line.split()[0] for line in access_log.read_text().splitlines()}) < 2:
        assert time.monotonic() < deadline, f"one worker answered every request: {pids}"
        time.sleep(0.05)

    # Another process — an operator's command — rotates the token.
    subprocess.run(
        [sys.executable, "manage.py", "drf_create_token", "-r", username],
        cwd=ROOT,
        env={**os.environ, **server_env},
        check=True,
        capture_output=True,
    )
    new_key = Token.objects.get(user__username=username).key
    answers = {status_of(base, old_key) for _ in range(20)}
    assert answers == {401}
    assert {status_of(base, new_key) for _ in range(20)} == {200}


# --- the cache holds no secret ------------------------------------------------------------------


def raw_entries(backend: str) -> list[tuple[bytes, bytes]]:
    """Every (key, value) the shared cache holds, as stored: pickled bytes, not objects."""
    if backend == "database":
        with connection.cursor() as cursor:
            cursor.execute("SELECT cache_key, value FROM django_cache")
            return [(key.encode(), base64.b64decode(value)) for key, value in cursor.fetchall()]
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    return [(key, client.get(key) or b"") for key in client.scan_iter(f"{PREFIX}*")]


PREFIX = f"no-secrets-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=["database", "redis"])
def shared_cache(request: pytest.FixtureRequest) -> Iterator[str]:
    """The shared cache of a deployment, each kind in turn, empty."""
    if request.param == "database":
        backend = {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "django_cache",
        }
    else:
        backend = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": request.getfixturevalue("redis_url"),
            "KEY_PREFIX": PREFIX,
        }
    with override_settings(CACHES={"default": backend}, API_THROTTLE_RATE=None):
        cache.clear()
        yield request.param
        cache.clear()


@pytest.mark.django_db
def test_the_cache_holds_neither_the_token_nor_the_password_hash(
    client_for: Callable[[User], APIClient], shared_cache: str
) -> None:
    alice = UserFactory(username="alice", permissions=["calibrations.add_calibration"])
    alice.set_password("a-long-password-1")
    alice.save()
    client = client_for(alice)
    key = Token.objects.get(user=alice).key
    password_hash = User.objects.get(pk=alice.pk).password
    assert client.get("/api/tags").status_code == 200
    assert account_queries(client) == []  # answered from the cache: the entry is there

    entries = raw_entries(shared_cache)
    assert any(b"alice" in value for _, value in entries), "no credentials entry found"
    for cache_key, value in entries:
        for secret in (key, password_hash, password_hash.split("$")[-1]):
            assert secret.encode() not in cache_key
            assert secret.encode() not in value


@pytest.mark.django_db
def test_a_token_user_read_from_the_cache_is_the_user_and_may_act(
    client_for: Callable[[User], APIClient],
) -> None:
    alice = UserFactory(username="alice", permissions=["calibrations.add_calibration"])
    CalibrationTypeFactory(name="gain")
    client = client_for(alice)
    assert client.get("/api/tags").status_code == 200
    response = client.post("/api/calibrations", CALIBRATION, format="json")
    assert response.status_code == 201
    assert response.json()["username"] == "alice"
    assert Calibration.objects.get().created_by == alice
