"""Reads over a room's readings that take more than one aggregate (DESIGN §4.5): the range in
force at an instant (`ranges`), readings grouped by instant and judged by it (`instants`),
time-weighted averages (`weighted`), mean kinetic temperatures (`mkt`) and excursions
(`runs`); `reports` builds on them.

On PostgreSQL each is one SQL statement with window functions over the unique index
(room, timestamp, sensor), which hands the rows over in time order, so nothing is sorted and
only the answer leaves the database. Elsewhere (SQLite, the development database) the same
definitions run in Python over the window's readings; the tests hold both to the same
hand-computed figures.

Public for other apps (monitoring's alarms): `judged_instants`, `range_in_force`,
`range_versions_covering`, `side_of`, `JudgedInstant`.
"""

from .instants import Instant, JudgedInstant, judged_instants
from .mkt import DEFAULT_ACTIVATION_ENERGY, MAX_ACTIVATION_ENERGY, mkt_buckets, mkt_summary
from .ranges import (
    Kind,
    RangeSpan,
    range_in_force,
    range_spans,
    range_versions_covering,
    side_of,
)
from .runs import Excursion, excursions
from .weighted import time_weighted_buckets, time_weighted_summary

__all__ = [
    "DEFAULT_ACTIVATION_ENERGY",
    "MAX_ACTIVATION_ENERGY",
    "Excursion",
    "Instant",
    "JudgedInstant",
    "Kind",
    "RangeSpan",
    "excursions",
    "judged_instants",
    "mkt_buckets",
    "mkt_summary",
    "range_in_force",
    "range_spans",
    "range_versions_covering",
    "side_of",
    "time_weighted_buckets",
    "time_weighted_summary",
]
