"""Settings for the test suite: `DATABASE_URL` picks PostgreSQL or SQLite."""

import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, HUEY, REDIS_URL, STORAGES

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests do not run collectstatic; serve from the finders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]

if REDIS_URL:
    # Suites running side by side on one Redis (developers', CI's) must not count each other's
    # requests: the keys of each checkout and test database are their own. The database name
    # alone is `:memory:` for every SQLite pass, so the checkout's folder is part of the prefix,
    # and so is the pytest-xdist worker (`gw0`, `gw1`…; each has its own test database).
    _checkout = Path(__file__).resolve().parents[2].name
    _worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    CACHES = {
        "default": {
            **CACHES["default"],
            "KEY_PREFIX": f"{_checkout}:{DATABASES['default']['NAME']}:{_worker}",
        }
    }
else:
    # Without Redis, this process's memory: the database cache would add its four statements to
    # every API request, and to the query counts that list endpoints' tests pin. The throttle's
    # own tests (tests/reliability/test_throttle.py) count on the database cache and on Redis.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Tasks run where they are enqueued, in memory: a test calls the worker's functions itself.
HUEY = {**HUEY, "immediate": True}
