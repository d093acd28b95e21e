"""PostgreSQL's planner settings for one transaction (`SET LOCAL`)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction


@contextmanager
def planner_settings(using: str = DEFAULT_DB_ALIAS, **settings: str) -> Iterator[None]:
    """On PostgreSQL, a transaction whose statements run with `settings` (name=value, e.g.
    `jit="off"`), all set in one statement; they end with the transaction (inside another,
    with the outermost one, as `SET LOCAL` does). Elsewhere nothing at all.

    `plan_cache_mode="force_custom_plan"` is for a statement whose best plan depends on its
    values (how much of a table a window covers): prepared, the fifth time a connection runs
    it (settings: `prepare_threshold`), PostgreSQL may otherwise keep one generic plan for
    every window."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not settings:
        yield
        return
    # Inside a caller's transaction no savepoint: nothing here to roll back alone.
    with transaction.atomic(using=using, savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT " + ", ".join(["set_config(%s, %s, true)"] * len(settings)),
                [part for setting in settings.items() for part in setting],
            )
        yield
