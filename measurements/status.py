"""A room's status as SQL: a correlated subquery of the rooms query, on both databases."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler


class RoomStatus(models.TextChoices):
    """Where a room stands, by the mean of its newest instant against the range in force at
    that instant (DESIGN §4.5)."""

    NO_DATA = "no_data", "No data"
    STALE = "stale", "Stale"
    NO_RANGE = "no_range", "No range"
    LOW = "low", "Low"
    HIGH = "high", "High"
    OK = "ok", "OK"


def version_in_force(ranges: str, room: str, at: str, quote: Callable[[str], str]) -> str:
    """The condition on `r`, a row of the range versions `ranges`, that it is `room`'s version
    in force at `at` (SQL of the outer query: a column or a placeholder, once): the newest
    changed at or before it, else the first (`selectors.range_in_force`'s rule). Probes of the
    (room, version) unique index; subqueries that compare columns, since SQLite refuses a
    correlated ORDER BY and a join whose ON clause reads a derived table's columns. A room
    whose versions are all gone cannot be: PROTECT."""
    room_id = quote("room_id")
    return (
        f"r.version = COALESCE((SELECT MAX(p.version) FROM {ranges} p WHERE p.{room_id} = {room} "
        f"AND p.changed_at <= {at}), "
        f"(SELECT MIN(p.version) FROM {ranges} p WHERE p.{room_id} = {room}))"
    )


class RoomSubquery(models.Expression):
    """A correlated scalar subquery of the rooms query, written as SQL text: `room_sql(room,
    quote)` gets the row's room (a column of the outer query) and returns the subquery.

    Django builds and compiles such an expression in microseconds, where the same subquery
    through the ORM (`OuterRef` inside `OuterRef`) cost a rooms page ~0.5 ms of query building
    for 0.1 ms of PostgreSQL's time."""

    def __init__(self, output_field: models.Field[Any, Any]) -> None:
        super().__init__(output_field=output_field)
        self.room: Any = models.F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.room]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.room,) = exprs

    def room_sql(self, room: str, quote: Callable[[str], str]) -> str:
        raise NotImplementedError

    def compile_room(self, compiler: SQLCompiler) -> str:
        room, params = compiler.compile(self.room)
        assert not params, "the row's room is a column of the rooms query"
        return str(room)

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        return self.room_sql(self.compile_room(compiler), connection.ops.quote_name), []


class RoomSubqueryAt(RoomSubquery):
    """A `RoomSubquery` that also reads an instant given with the query (a parameter):
    `instant_sql(room, at, at_params, quote)` returns the subquery, with `at` in it once, and
    its parameters in order."""

    def __init__(self, output_field: models.Field[Any, Any], at: datetime) -> None:
        super().__init__(output_field)
        self.at: Any = models.Value(at, output_field=models.DateTimeField())

    def get_source_expressions(self) -> list[Any]:
        return [self.room, self.at]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.room, self.at = exprs

    def instant_sql(
        self, room: str, at: str, at_params: Sequence[Any], quote: Callable[[str], str]
    ) -> tuple[str, list[Any]]:
        raise NotImplementedError

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        at, at_params = compiler.compile(self.at)
        return self.instant_sql(
            self.compile_room(compiler), at, at_params, connection.ops.quote_name
        )


class RangeInForce(RoomSubqueryAt):
    """One bound (`min_c` or `max_c`, °C) of the range in force at `at` in the row's room, or
    NULL when none (`version_in_force`). SQL text: through the ORM (`OuterRef`, a `Case` in
    the ordering) building the two bounds cost a request 1.1 ms of Python, this 0.25 ms."""

    def __init__(self, *, ranges: type[models.Model], bound: str, at: datetime) -> None:
        super().__init__(models.FloatField(), at)
        self.ranges, self.bound = ranges, bound

    def instant_sql(
        self, room: str, at: str, at_params: Sequence[Any], quote: Callable[[str], str]
    ) -> tuple[str, list[Any]]:
        ranges = quote(self.ranges._meta.db_table)
        sql = (
            f"(SELECT r.{quote(self.bound)} FROM {ranges} r WHERE r.{quote('room_id')} = {room} "
            f"AND {version_in_force(ranges, room, at, quote)})"
        )
        return sql, list(at_params)


class NewestInstantStatus(RoomSubqueryAt):
    """The RoomStatus of the row's room, or NULL when the room has no reading (`no_data`).

    Its newest instant (the mean of the readings at its newest timestamp) is `stale` when
    older than `stale_before`; else it is judged by the range in force at that instant: the
    newest version changed at or before it, or the first version when none was (the rule of
    `selectors.range_in_force`); no range in force is `no_range`. Per room, probes of the
    unique indexes only: the newest timestamp, that instant's readings, and three of the
    room's (room, version) index (0.65 ms for 20 rooms against 0.35 ms for the one probe of
    the status before the range history, in the backend's CPU time).
    """

    def __init__(
        self,
        *,
        readings: type[models.Model],
        ranges: type[models.Model],
        stale_before: datetime,
    ) -> None:
        super().__init__(models.CharField(), stale_before)
        self.readings, self.ranges = readings, ranges

    def instant_sql(
        self, room: str, at: str, at_params: Sequence[Any], quote: Callable[[str], str]
    ) -> tuple[str, list[Any]]:
        # `at` is `stale_before`.
        q = quote
        readings, ranges = q(self.readings._meta.db_table), q(self.ranges._meta.db_table)
        ts, value, room_id = q("timestamp"), q("value"), q("room_id")
        sql = f"""(
            SELECT CASE WHEN s.t < {at} THEN %s ELSE COALESCE((
                SELECT CASE
                    WHEN r.min_c IS NULL THEN %s
                    WHEN s.v < r.min_c THEN %s
                    WHEN s.v > r.max_c THEN %s
                    ELSE %s END
                FROM {ranges} r
                WHERE r.{room_id} = {room} AND {version_in_force(ranges, room, "s.t", q)}
            ), %s) END
            FROM (
                SELECT m.{ts} AS t, AVG(m.{value}) AS v
                FROM {readings} m
                WHERE m.{room_id} = {room} AND m.{ts} = (
                    SELECT MAX(n.{ts}) FROM {readings} n WHERE n.{room_id} = {room}
                )
                GROUP BY m.{ts}
            ) s
        )"""
        params = [
            *at_params,
            str(RoomStatus.STALE),
            str(RoomStatus.NO_RANGE),
            str(RoomStatus.LOW),
            str(RoomStatus.HIGH),
            str(RoomStatus.OK),
            str(RoomStatus.NO_RANGE),  # no version at all
        ]
        return sql, params


class NewestInstant(RoomSubquery):
    """The row's room's newest instant: its timestamp, or with `mean` the mean of the readings
    at it (one instant is one reading, DESIGN §4.5); NULL when the room has no reading. `MAX`
    of the timestamp is a backward probe of the unique (room, timestamp, sensor) index on
    PostgreSQL and SQLite alike."""

    def __init__(self, *, readings: type[models.Model], mean: bool) -> None:
        super().__init__(models.FloatField() if mean else models.DateTimeField())
        self.readings, self.mean = readings, mean

    def room_sql(self, room: str, quote: Callable[[str], str]) -> str:
        readings, ts, room_id = (
            quote(self.readings._meta.db_table),
            quote("timestamp"),
            quote("room_id"),
        )
        newest = f"(SELECT MAX(n.{ts}) FROM {readings} n WHERE n.{room_id} = {room})"
        if not self.mean:
            return newest
        return (
            f"(SELECT AVG(m.{quote('value')}) FROM {readings} m "
            f"WHERE m.{room_id} = {room} AND m.{ts} = {newest})"
        )
