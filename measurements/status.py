"""A room's status as SQL: a correlated subquery of the rooms query, on both databases."""

from collections.abc import Sequence
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


class NewestInstantStatus(models.Expression):
    """The RoomStatus of the row's room, or NULL when the room has no reading (`no_data`).

    Its newest instant (the mean of the readings at its newest timestamp) is `stale` when
    older than `stale_before`; else it is judged by the range in force at that instant: the
    newest version changed at or before it, or the first version when none was (the rule of
    `selectors.range_in_force`); no range in force is `no_range`. Per room, three probes of
    unique indexes: the newest timestamp, that instant's readings, the room's versions.
    """

    output_field = models.CharField()

    def __init__(
        self,
        *,
        readings: type[models.Model],
        ranges: type[models.Model],
        stale_before: datetime,
    ) -> None:
        super().__init__()
        self.readings, self.ranges = readings, ranges
        self.room: Any = models.F("pk")
        self.stale_before: Any = models.Value(stale_before, output_field=models.DateTimeField())

    def get_source_expressions(self) -> list[Any]:
        return [self.room, self.stale_before]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.room, self.stale_before = exprs

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> tuple[str, list[Any]]:
        room, room_params = compiler.compile(self.room)
        stale, stale_params = compiler.compile(self.stale_before)
        q = connection.ops.quote_name
        readings, ranges = q(self.readings._meta.db_table), q(self.ranges._meta.db_table)
        ts, value, room_id = q("timestamp"), q("value"), q("room_id")
        # The version in force: the newest changed at or before the instant, else the first.
        # Subqueries that compare columns (SQLite refuses a correlated ORDER BY, and a join
        # whose ON clause reads a derived table's columns).
        sql = f"""(
            SELECT CASE
                WHEN k.t < {stale} THEN %s
                WHEN k.lo IS NULL THEN %s
                WHEN k.v < k.lo THEN %s
                WHEN k.v > k.hi THEN %s
                ELSE %s END
            FROM (
                SELECT j.t, j.v,
                    (SELECT r.min_c FROM {ranges} r
                     WHERE r.{room_id} = {room} AND r.version = j.number) AS lo,
                    (SELECT r.max_c FROM {ranges} r
                     WHERE r.{room_id} = {room} AND r.version = j.number) AS hi
                FROM (
                    SELECT s.t, s.v, COALESCE(
                        (SELECT MAX(r.version) FROM {ranges} r
                         WHERE r.{room_id} = {room} AND r.changed_at <= s.t),
                        (SELECT MIN(r.version) FROM {ranges} r WHERE r.{room_id} = {room})
                    ) AS number
                    FROM (
                        SELECT m.{ts} AS t, AVG(m.{value}) AS v
                        FROM {readings} m
                        WHERE m.{room_id} = {room} AND m.{ts} = (
                            SELECT MAX(n.{ts}) FROM {readings} n WHERE n.{room_id} = {room}
                        )
                        GROUP BY m.{ts}
                    ) s
                ) j
            ) k
        )"""
        statuses = [RoomStatus.STALE, RoomStatus.NO_RANGE, RoomStatus.LOW, RoomStatus.HIGH]
        params = [
            *stale_params,
            *(str(status) for status in statuses),
            str(RoomStatus.OK),
            *room_params,  # the version's min
            *room_params,  # the version's max
            *room_params,  # the newest version changed by then
            *room_params,  # the first version
            *room_params,  # the instant's readings
            *room_params,  # the newest timestamp
        ]
        return sql, params
