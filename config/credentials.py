"""Who an API token belongs to and what that user may do, cached on the shared cache.

Every API request authenticates by token and checks permissions: three queries (the token with
its user, the user's own permissions, their groups' permissions), each answered the same until
someone changes an account. Profiled, they were about half of a simple read's CPU. So they are
read once and kept together on the shared cache (`CACHES["default"]`: Redis when `REDIS_URL`
is set, else the database cache) for `API_CREDENTIALS_CACHE_SECONDS`, under the current
*generation*:

- Any save or delete of a user, group, permission or token, and any change of who is in a
  group or holds a permission, starts a new generation (config/models.py connects the
  receivers) — at once, and again once the change commits. Every worker then reads the
  database again on its next request: a revoked token or permission stops working at once,
  across workers.
- An entry carries the generation read before its rows were: a request that read the old rows
  just before a change committed cached them under the generation that the commit ends.
- One round trip to the cache per request: the generation and the token's entry together.
- A change that bypasses Django's signals (raw SQL, `QuerySet.update()`) is seen when the
  entry expires, at most `API_CREDENTIALS_CACHE_SECONDS` later; 0 turns the cache off.
- While Redis cannot be reached, requests read the database and a warning is logged; a change
  made then cannot start a generation (an error is logged), so entries cached before it may
  live out their `API_CREDENTIALS_CACHE_SECONDS`.

Django's permission model still decides: the cached sets are what `ModelBackend` computed, and
`ModelBackend` below answers from them only for the token's user, through the backend API.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import backends
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)

GENERATION_KEY = "credentials:generation"
# The attribute of a token's user holding its cached credentials (set by `find_token`).
ATTRIBUTE = "cached_credentials"


@dataclass(frozen=True)
class Credentials:
    """A token (its user loaded with it) and the permission sets Django's `ModelBackend` gave
    that user, read from the database during `generation`."""

    generation: str
    token: Token
    user_permissions: frozenset[str]
    group_permissions: frozenset[str]


def new_generation() -> None:
    """Forget every cached credential, in every worker (a new random value, never reused)."""
    try:
        cache.set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
    except RedisError as error:
        logger.error("credentials: Redis unreachable, cached credentials not ended: %s", error)


def credentials_changed(using: str | None = None) -> None:
    """An account, group, permission or token changed: a new generation now, and another
    once the change commits (a request that read the rows before the commit cached them under
    the generation that ends then)."""
    new_generation()
    transaction.on_commit(new_generation, using=using)


def _token(key: str) -> Token | None:
    return Token.objects.select_related("user").filter(key=key).first()


def _load(key: str, generation: str) -> Credentials | None:
    token = _token(key)
    if token is None:
        return None
    # Django's backend computes the sets on a copy, so the cached user carries none of its
    # per-instance caches.
    probe = copy.copy(token.user)
    django_backend = backends.ModelBackend()
    return Credentials(
        generation=generation,
        token=token,
        user_permissions=frozenset(django_backend.get_user_permissions(probe)),
        group_permissions=frozenset(django_backend.get_group_permissions(probe)),
    )


def find_token(key: str) -> Token | None:
    """Token `key` with its user (None for an unknown key), the user carrying its credentials.

    One round trip to the shared cache reads the current generation and the token's entry; an
    entry read during another generation is read again from the database."""
    seconds = settings.API_CREDENTIALS_CACHE_SECONDS
    if seconds <= 0:
        return _token(key)
    # The key's digest, not the key: a cache's keys are no place for a secret.
    entry_key = "credentials:" + hashlib.sha256(key.encode()).hexdigest()
    try:
        cached = cache.get_many([GENERATION_KEY, entry_key])
        current = cached.get(GENERATION_KEY)
        if current is None:
            # First use, a flushed cache or a culled entry: any new value is safe (it only
            # makes the entries of an earlier one unreadable).
            cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
            current = cache.get(GENERATION_KEY)
    except RedisError as error:
        logger.warning("credentials: Redis unreachable, read from the database: %s", error)
        return _token(key)
    found: Credentials | None = cached.get(entry_key)
    if found is None or found.generation != current:
        # Tagged with the generation read *before* the database: should a change commit in
        # between, the entry is stale by its tag and the next request reads again.
        found = _load(key, str(current))
        if found is None:
            return None
        try:
            cache.set(entry_key, found, timeout=seconds)
        except RedisError as error:
            logger.warning("credentials: Redis unreachable, not cached: %s", error)
    setattr(found.token.user, ATTRIBUTE, found)
    return found.token


class ModelBackend(backends.ModelBackend):
    """Django's `ModelBackend`, answering a token user's permissions from its cached
    credentials; every other user (the admin's session, a shell) as Django does."""

    @staticmethod
    def _cached(user_obj: User | AnonymousUser, obj: Any) -> Credentials | None:
        found = getattr(user_obj, ATTRIBUTE, None)
        if obj is not None or not user_obj.is_active or not isinstance(found, Credentials):
            return None
        return found

    def get_user_permissions(self, user_obj: User | AnonymousUser, obj: Any = None) -> set[str]:
        found = self._cached(user_obj, obj)
        if found is None:
            return super().get_user_permissions(user_obj, obj)
        return set(found.user_permissions)

    def get_group_permissions(self, user_obj: User | AnonymousUser, obj: Any = None) -> set[str]:
        found = self._cached(user_obj, obj)
        if found is None:
            return super().get_group_permissions(user_obj, obj)
        return set(found.group_permissions)
