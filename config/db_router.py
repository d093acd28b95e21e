"""Read replicas: the reads of read-only API requests go to `replica`, everything else to `default`.

Enabled by `DATABASE_REPLICA_URL` (see config/settings/base.py); without it nothing changes.
A request is read-only when its method is GET, HEAD or OPTIONS and it is not the admin (staff
expect to see what they just saved, and a replica may lag behind by a moment). Writes, and
every read of a request that may write, go to the primary, so a client reads its own writes
within one request. What a replica lags behind is documented in docs/SCALING.md.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

REPLICA = "replica"
# What Django's database cache calls its table's stand-in model (django.core.cache.backends.db).
CACHE_APP_LABEL = "django_cache"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_read_only: ContextVar[bool] = ContextVar("read_only_request", default=False)


@contextmanager
def read_only() -> Iterator[None]:
    """Within this block, reads may go to the replica (what the middleware does per request)."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def is_read_only_request(request: HttpRequest) -> bool:
    return request.method in READ_ONLY_METHODS and not request.path.startswith("/admin/")


class ReadOnlyRequestMiddleware:
    """Marks read-only requests for `ReplicaRouter`; a thread or task sees only its own mark."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _read_only.set(is_read_only_request(request))
        try:
            return self.get_response(request)
        finally:
            _read_only.reset(token)


class ReplicaRouter:
    """Reads of read-only requests to `replica` when it is configured; the rest to `default`."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        # The database cache holds the API throttle's counts: read on a lagging replica they
        # would undercount, so its reads stay on the primary that its writes go to.
        if model._meta.app_label == CACHE_APP_LABEL:
            return None
        if _read_only.get() and REPLICA in settings.DATABASES:
            return REPLICA
        return None

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return "default"

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        # Replicas are copies made by PostgreSQL's streaming replication: never migrated.
        return db != REPLICA
