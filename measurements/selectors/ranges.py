"""The range in force at an instant, written once (DESIGN §3 RangeVersion).

The range in force at T is the newest version of the room's range changed at or before T;
before the first version's `changed_at`, the first version: a room's first range also judges
the readings it already had (nobody had judged them), while every later change judges only
what comes after it. "Newest" is the highest version number, so the rule holds even if the
server's clock once stepped back between two changes.

Three faces of the one rule, held to each other by the tests:
- `range_in_force(versions, at)`, in Python (the portable paths, the console's chart);
- `RANGES_SQL` and `side_sql`, in PostgreSQL: version i holds from its `changed_at` (the
  first from −infinity) until the earliest `changed_at` of the versions after it, and an
  instant is judged by the version whose stretch holds it;
- `status.version_in_force`, in the rooms query's SQL (`Room.objects.with_range_at(t)`,
  `status.NewestInstantStatus`): the newest version changed by then, else the first.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from django.db.models import Exists, OuterRef, Q

from ..models import RangeVersion, Room

Kind = Literal["low", "high"]


class Versioned(Protocol):
    @property
    def version(self) -> int: ...
    @property
    def changed_at(self) -> datetime: ...
    @property
    def min_c(self) -> float | None: ...
    @property
    def max_c(self) -> float | None: ...


V = TypeVar("V", bound=Versioned)

# `%(room)s`: the room's id. `spans`: each version with the stretch `[since, until)` it is in
# force (a room's few rows, read in the unique (room, version) index's order). `ranges`: the
# non-empty stretches as three arrays ordered by `since` (one row; null arrays when the room
# has no version), so an instant's version is `width_bucket(t, since)`, a binary search: per
# reading that costs less than a join to the spans (a nested loop on an inequality).
RANGES_SQL = f"""
    spans AS (
        SELECT version, min_c, max_c,
               CASE WHEN lag(version) OVER v IS NULL THEN '-infinity'::timestamptz
                    ELSE changed_at END AS since,
               COALESCE(
                   min(changed_at) OVER (v ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING),
                   'infinity'::timestamptz
               ) AS until
        FROM {RangeVersion._meta.db_table}
        WHERE room_id = %(room)s
        WINDOW v AS (ORDER BY version)
    ), ranges AS MATERIALIZED (
        SELECT array_agg(since ORDER BY since) AS since,
               array_agg(min_c ORDER BY since) AS lo,
               array_agg(max_c ORDER BY since) AS hi,
               max(min_c) AS inner_lo, min(max_c) AS inner_hi
        FROM spans
        WHERE since < until
    )
"""


def side_sql(value: str, at: str) -> str:
    """SQL of the side of `value` at instant `at` against the range in force then (with
    RANGES_SQL): -1 below, 1 above, 0 inside, on a bound or with no range in force.

    A value inside every range the room ever had (most readings of a room in control) is
    inside without looking its version up."""
    index = f"width_bucket({at}, (SELECT since FROM ranges))"
    return (
        f"CASE WHEN {value} >= (SELECT inner_lo FROM ranges) "
        f"AND {value} <= (SELECT inner_hi FROM ranges) THEN 0 "
        f"WHEN {value} < (SELECT lo FROM ranges)[{index}] THEN -1 "
        f"WHEN {value} > (SELECT hi FROM ranges)[{index}] THEN 1 ELSE 0 END"
    )


def range_in_force(versions: Sequence[V], at: datetime) -> V | None:
    """The version in force at `at` among `versions` (one room's, ordered by version): the
    newest changed at or before `at`, else the first; None when there is no version.

    `versions` may be a room's whole history or those `range_versions_covering` a window
    that holds `at`."""
    found = versions[0] if versions else None
    for version in versions[1:]:
        if version.changed_at <= at:
            found = version
    return found


def range_versions_covering(
    room: "Room | str", start: datetime, end: datetime | None
) -> list[RangeVersion]:
    """The versions of `room`'s range in force at some instant of `[start, end]` (`end` None:
    from `start` on), oldest first: enough for `range_in_force` at any instant of it."""
    room_id = room.pk if isinstance(room, Room) else room
    own = RangeVersion.objects.filter(room_id=room_id)
    earlier = own.filter(version__lt=OuterRef("version"))
    # Superseded by `start`: a later version was changed at or before it.
    superseded = own.filter(version__gt=OuterRef("version"), changed_at__lte=start)
    # Begun by `end`: the first version (in force before its own change), or changed by then.
    begun = Q() if end is None else Q(~Exists(earlier)) | Q(changed_at__lte=end)
    return list(own.filter(begun).exclude(Exists(superseded)).order_by("version"))


@dataclass(frozen=True)
class RangeSpan:
    """A stretch of time during which one version of a room's range was in force."""

    start: datetime
    end: datetime
    min_c: float | None
    max_c: float | None


def range_spans(versions: Sequence[Versioned], start: datetime, end: datetime) -> list[RangeSpan]:
    """The stretches of `[start, end]` each version was in force in, oldest first (the chart's
    step band); `versions` as for `range_in_force`, covering the window."""
    spans: list[RangeSpan] = []
    for index, version in enumerate(versions):
        since = start if index == 0 else max(version.changed_at, start)
        later = [v.changed_at for v in versions[index + 1 :]]
        until = min([end, *later])
        if since < until:
            spans.append(RangeSpan(since, until, version.min_c, version.max_c))
    return spans


def side_of(value: float, min_c: float | None, max_c: float | None) -> Kind | None:
    """Which side of the range `[min_c, max_c]` a value is on; None inside (a value on a bound
    is inside) or when no range is in force."""
    if min_c is None or max_c is None:
        return None
    if value < min_c:
        return "low"
    if value > max_c:
        return "high"
    return None
