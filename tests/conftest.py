"""Fixtures shared by every test: API clients signed in as users with specific permissions, and
the race harness of the concurrency tests, and the Redis that CI provides."""

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import UserFactory

WRITER_PERMISSIONS = [
    "calibrations.add_calibration",
    "tagging.add_tagassignment",
    "tagging.change_tagassignment",
]


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def client_for(db: None) -> Callable[[User], APIClient]:
    """A client that authenticates as `user` with a real API token."""

    def make(user: User) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def reader(db: None) -> User:
    """Signed in, no model permissions: may read, may not write."""
    return UserFactory(username="reader")


@pytest.fixture
def writer(db: None) -> User:
    """May record calibrations and add/remove tags."""
    return UserFactory(username="writer", permissions=WRITER_PERMISSIONS)


@pytest.fixture
def reader_client(client_for: Callable[[User], APIClient], reader: User) -> APIClient:
    return client_for(reader)


@pytest.fixture
def writer_client(client_for: Callable[[User], APIClient], writer: User) -> APIClient:
    return client_for(writer)


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(client_for: Callable[[User], APIClient], superuser: User) -> APIClient:
    return client_for(superuser)


Race = Callable[..., list[Any]]


def run_together(
    calls: Sequence[Callable[[], Any]], *, threads: int | None = None, timeout: float = 20
) -> list[Any]:
    """Start `calls` at the same instant, each on its own thread and database connection, and
    return their results in order (an exception in a call is raised here).

    With `threads` fewer than the calls, the first `threads` calls start together and the rest
    queue behind them on the same threads. Needs `django_db(transaction=True)`: each thread's
    connection sees only what is committed.
    """
    width = threads or len(calls)
    start = threading.Barrier(width)

    def run(index: int) -> Any:
        try:
            if index < width:  # the pool gives each of the first `width` calls a thread of its own
                start.wait(timeout=timeout)
            return calls[index]()
        finally:
            connection.close()  # each thread's own connection, or the test database stays in use

    with ThreadPoolExecutor(max_workers=width) as pool:
        return list(pool.map(run, range(len(calls))))


@pytest.fixture
def race() -> Race:
    """`run_together`: the one race harness of the concurrency tests."""
    return run_together


@pytest.fixture
def redis_url() -> str:
    """The Redis that `REDIS_URL` names, answering; a skip without one, a failure in CI."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI runs the Redis tests: .ci/run must set REDIS_URL")
        pytest.skip("needs Redis: set REDIS_URL, e.g. redis://127.0.0.1:6379/0 (CI does)")
    redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    return url
