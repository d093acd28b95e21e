"""Who an API token belongs to and what that user may do, cached on the shared cache for
`API_CREDENTIALS_CACHE_SECONDS` under a *generation* that any change to an account ends, at
once and in every worker (accounts/receivers.py). The entry holds no secret: the user's id,
name and flags and their two permission sets, under the key's digest. Django's `ModelBackend`
still decides; docs/OPERATIONS.md says what an operator sees.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import backends
from django.contrib.auth.models import AnonymousUser, User
from django.core.cache import cache
from django.db import router, transaction
from django.db.models import Model
from redis.exceptions import RedisError
from rest_framework.authtoken.models import Token

logger = logging.getLogger(__name__)

GENERATION_KEY = "credentials:generation"
# The attribute of a token's user holding its cached credentials (set by `find_token`).
ATTRIBUTE = "cached_credentials"


@dataclass(frozen=True)
class Credentials:
    """What a request needs to know of a token's user, read from the database during
    `generation`: who they are and the permission sets Django's `ModelBackend` gave them.
    Neither the token's key nor the password hash: a cache is no place for a secret."""

    generation: str
    user_id: int
    username: str
    is_active: bool
    is_superuser: bool
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
    user = token.user
    # Django's backend computes the sets on a copy, so the user keeps none of its caches.
    probe = copy.copy(user)
    django_backend = backends.ModelBackend()
    return Credentials(
        generation=generation,
        user_id=user.pk,
        username=user.get_username(),
        is_active=user.is_active,
        is_superuser=user.is_superuser,
        user_permissions=frozenset(django_backend.get_user_permissions(probe)),
        group_permissions=frozenset(django_backend.get_group_permissions(probe)),
    )


def _token_of(key: str, found: Credentials) -> Token:
    """The token and its user as the request uses them, built from the entry (no query); a
    field the entry does not hold is read from the database if anything asks for it."""
    using = router.db_for_read(User)
    user = _loaded(
        User,
        using,
        id=found.user_id,
        username=found.username,
        is_active=found.is_active,
        is_superuser=found.is_superuser,
    )
    setattr(user, ATTRIBUTE, found)
    token = _loaded(Token, using, key=key, user_id=found.user_id)
    token.user = user
    return token


_M = TypeVar("_M", bound=Model)


def _loaded(model: type[_M], using: str, **values: Any) -> _M:
    """An instance as if loaded from the database with only these fields (`Model.from_db`
    takes their values in the model's field order; the others are deferred)."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname in values]
    return model.from_db(using, names, [values[name] for name in names])


def find_token(key: str) -> Token | None:
    """Token `key` with its user (None for an unknown key), the user carrying its credentials.

    One round trip to the shared cache reads the current generation and the token's entry; an
    entry read during another generation is read again from the database."""
    seconds = settings.API_CREDENTIALS_CACHE_SECONDS
    if seconds <= 0:
        return _token(key)
    # The key's digest, not the key: a cache's keys are no place for a secret. `v2`: entries
    # written before they held no secret are never read (nor unpickled) again.
    entry_key = "credentials:v2:" + hashlib.sha256(key.encode()).hexdigest()
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
    return _token_of(key, found)


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
