"""Settings for the test suite: `DATABASE_URL` picks PostgreSQL or SQLite."""

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, STORAGES

SECRET_KEY = "test-only-not-secret"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests do not run collectstatic; serve from the finders.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["*"]

# Suites running side by side on one Redis (developers', CI's) must not count each other's
# requests: the keys of each test database are its own.
CACHES = {"default": {**CACHES["default"], "KEY_PREFIX": str(DATABASES["default"]["NAME"])}}
