"""A deterministic, realistic data set loaded through PostgreSQL COPY.

Default scale: 1,000,000 calibrations by 20 users of 8 types over 5 years, 100 tags and
3,000,000 tag periods (~30% closed), 1,000 rooms with one reading every 90 s over ~3 weeks
(20,000,000 readings) ending at load time; nine rooms in ten have an acceptable range, and one
in ten has had it changed twice in the last week. `SCALES["small"]` is the same shape, smaller.

Fast because: secondary indexes and foreign keys of a table are dropped before its COPY and
recreated after (one sorted build instead of millions of random inserts, no per-row FK
trigger), rows are streamed as COPY text in large chunks, and the tables are VACUUM ANALYZEd
at the end so the planner has statistics and index-only scans have a visibility map.

Needs Django set up (`bench.run` does it) for table and column names: the loader follows the
models, it does not restate the schema.
"""

from __future__ import annotations

import math
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import psycopg

SEED = 20250401
CHUNK = 20_000  # rows per COPY write: big enough to amortise, small enough to stream


@dataclass(frozen=True)
class Scale:
    """How much data to load."""

    name: str
    calibrations: int
    users: int
    types: int
    years: int
    tags: int
    assignments_per_calibration: int
    closed_fraction: float
    rooms: int
    readings_per_room: int
    reading_every: timedelta

    @property
    def assignments(self) -> int:
        return self.calibrations * self.assignments_per_calibration

    @property
    def readings(self) -> int:
        return self.rooms * self.readings_per_room


_DEFAULT = Scale(
    name="default",
    calibrations=1_000_000,
    users=20,
    types=8,
    years=5,
    tags=100,
    assignments_per_calibration=3,
    closed_fraction=0.3,
    rooms=1_000,
    readings_per_room=20_000,  # 20,000 × 90 s ≈ 20.8 days
    reading_every=timedelta(seconds=90),
)
SCALES = {
    "default": _DEFAULT,
    # The same shape, smaller: ≈ 10.4 days of readings, still more than the 7-day window.
    "small": replace(
        _DEFAULT, name="small", calibrations=50_000, rooms=100, readings_per_room=10_000
    ),
}

# The four types the data migration creates, and four more a lab would add.
EXTRA_TYPES = ["current", "frequency", "humidity", "voltage"]


def usernames(scale: Scale) -> list[str]:
    return [f"user{i:02d}" for i in range(1, scale.users + 1)]


def tag_names(scale: Scale) -> list[str]:
    return [f"tag-{i:03d}" for i in range(scale.tags)]


def room_ids(scale: Scale) -> list[str]:
    return [f"room-{i:04d}" for i in range(scale.rooms)]


def ts(moment: datetime) -> str:
    """COPY text form of an aware datetime (always UTC here)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f+00")


def log(message: str) -> None:
    print(f"[generate {time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---------------------------------------------------------------------------------------------
# Dropping and restoring a table's secondary indexes and foreign keys around a bulk load.


def strip_table(conn: psycopg.Connection, table: str) -> list[str]:
    """Drop the table's foreign keys and non-primary indexes; return the DDL that restores them."""
    restore: list[str] = []
    drop: list[str] = []
    constraints = conn.execute(
        """
        SELECT conname, pg_get_constraintdef(oid), contype, conindid
        FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('f', 'u', 'x')
        """,
        [table],
    ).fetchall()
    constraint_indexes = set()
    for name, definition, _kind, index_oid in constraints:
        drop.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        if index_oid:
            constraint_indexes.add(index_oid)
    indexes = conn.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indexrelid
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
        """,
        [table],
    ).fetchall()
    for name, definition, oid in indexes:
        if oid in constraint_indexes:
            continue
        drop.append(f'DROP INDEX "{name}"')
        restore.insert(0, definition)  # indexes first, then the constraints that may use them
    for statement in drop:
        conn.execute(statement)
    return restore


def copy_rows(
    conn: psycopg.Connection, table: str, columns: list[str], lines: Iterator[str]
) -> int:
    """Stream COPY text lines (each ending in a newline) into the table; return the row count."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    count = 0
    buffer: list[str] = []
    with conn.cursor() as cursor, cursor.copy(sql) as copy:
        for line in lines:
            buffer.append(line)
            if len(buffer) >= CHUNK:
                copy.write("".join(buffer))
                count += len(buffer)
                buffer.clear()
        if buffer:
            copy.write("".join(buffer))
            count += len(buffer)
    return count


def bulk_load(
    conn: psycopg.Connection,
    table: str,
    columns: list[str],
    lines: Iterator[str],
    label: str,
) -> None:
    started = time.monotonic()
    restore = strip_table(conn, table)
    count = copy_rows(conn, table, columns, lines)
    loaded = time.monotonic()
    log(f"{label}: {count:,} rows copied in {loaded - started:.1f}s; rebuilding indexes")
    for statement in restore:
        conn.execute(statement)
    log(f"{label}: {len(restore)} indexes/constraints rebuilt in {time.monotonic() - loaded:.1f}s")


# ---------------------------------------------------------------------------------------------
# The data.


def calibration_lines(
    scale: Scale, now: datetime, type_ids: list[int], ids_out: list[str], times_out: list[datetime]
) -> Iterator[str]:
    """Calibrations in the order a lab records them: oldest first, users and types mixed."""
    rng = random.Random(SEED)
    users = usernames(scale)
    start = now - timedelta(days=365 * scale.years)
    step = (now - start) / scale.calibrations
    for i in range(scale.calibrations):
        cal_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        moment = start + step * i + timedelta(seconds=rng.random() * step.total_seconds())
        ids_out.append(cal_id)
        times_out.append(moment)
        created = moment + timedelta(minutes=rng.randint(1, 600))
        yield (
            f"{cal_id}\t{rng.choice(type_ids)}\t{rng.gauss(1.0, 0.25):.6f}\t{ts(moment)}\t"
            f"{rng.choice(users)}\t{ts(min(created, now))}\t\\N\n"
        )


def assignment_lines(
    scale: Scale,
    now: datetime,
    tag_ids: list[int],
    calibration_ids: list[str],
    calibration_times: list[datetime],
) -> Iterator[str]:
    """Each calibration gets distinct tags soon after it is done; some are removed later."""
    rng = random.Random(SEED + 1)
    for cal_id, done in zip(calibration_ids, calibration_times, strict=True):
        for tag_id in rng.sample(tag_ids, scale.assignments_per_calibration):
            added = min(done + timedelta(seconds=rng.randint(0, 30 * 86_400)), now)
            removed = "\\N"
            if rng.random() < scale.closed_fraction:
                removed = ts(min(added + timedelta(seconds=rng.randint(60, 365 * 86_400)), now))
            yield f"{cal_id}\t{tag_id}\t{ts(added)}\t{removed}\t{ts(done)}\n"


def reading_lines(scale: Scale, now: datetime) -> Iterator[str]:
    """One reading per room every `reading_every`, ending now: a daily swing plus noise."""
    rng = random.Random(SEED + 2)
    every = scale.reading_every.total_seconds()
    first = now - scale.reading_every * (scale.readings_per_room - 1)
    times = [ts(first + scale.reading_every * i) for i in range(scale.readings_per_room)]
    day_phase = [
        3.0 * math.sin(2 * math.pi * ((first.timestamp() + every * i) % 86_400) / 86_400)
        for i in range(scale.readings_per_room)
    ]
    noise = [rng.gauss(0, 0.3) for _ in range(9_973)]  # a prime, so rooms do not line up
    for r, room in enumerate(room_ids(scale)):
        base = rng.uniform(17.0, 24.0)
        offset = r * 37
        yield from (
            f"{room}\t{times[i]}\t\t{base + day_phase[i] + noise[(i + offset) % 9_973]:.2f}\n"
            for i in range(scale.readings_per_room)
        )


# ---------------------------------------------------------------------------------------------


def load(dsn: str, scale: Scale, *, with_measurements: bool = True) -> dict[str, float]:
    """Load the data set into a migrated, empty database; return what took how long."""
    from calibrations.models import Calibration, CalibrationType
    from tagging.models import Tag, TagAssignment

    now = datetime.now(UTC).replace(microsecond=0)
    timings: dict[str, float] = {}

    types = list(CalibrationType.objects.order_by("name").values_list("name", flat=True))
    for name in EXTRA_TYPES[: max(0, scale.types - len(types))]:
        CalibrationType.objects.get_or_create(name=name, defaults={"unit": ""})
    type_ids = list(
        CalibrationType.objects.order_by("name").values_list("pk", flat=True)[: scale.types]
    )
    created = now - timedelta(days=365 * scale.years + 1)
    Tag.objects.bulk_create(Tag(name=name, created_at=created) for name in tag_names(scale))
    tag_ids = list(Tag.objects.order_by("name").values_list("pk", flat=True))

    with psycopg.connect(dsn, autocommit=True) as conn:
        # Session-level only: a big sort budget for the index builds after each COPY.
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET synchronous_commit = off")
        # No per-row triggers: the rows carry what the triggers would copy (the calibration's
        # timestamp into its tag periods), and foreign keys are re-added, so checked, after.
        conn.execute("SET session_replication_role = replica")

        cal_ids: list[str] = []
        cal_times: list[datetime] = []
        started = time.monotonic()
        fields = {f.name: f.column for f in Calibration._meta.concrete_fields}
        bulk_load(
            conn,
            Calibration._meta.db_table,
            [
                fields[name]
                for name in (
                    "id",
                    "calibration_type",
                    "value",
                    "timestamp",
                    "username",
                    "created_at",
                    "created_by",
                )
            ],
            calibration_lines(scale, now, type_ids, cal_ids, cal_times),
            "calibrations",
        )
        timings["calibrations"] = time.monotonic() - started

        started = time.monotonic()
        fields = {f.name: f.column for f in TagAssignment._meta.concrete_fields}
        bulk_load(
            conn,
            TagAssignment._meta.db_table,
            [
                fields[name]
                for name in (
                    "calibration",
                    "tag",
                    "added_at",
                    "removed_at",
                    "calibration_timestamp",
                )
            ],
            assignment_lines(scale, now, tag_ids, cal_ids, cal_times),
            "tag assignments",
        )
        timings["tag assignments"] = time.monotonic() - started
        del cal_ids, cal_times

        if with_measurements:
            timings.update(load_measurements(conn, scale, now))

        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        timings["vacuum analyze"] = time.monotonic() - started
        log(f"VACUUM ANALYZE in {timings['vacuum analyze']:.1f}s")
    return timings


# Every tenth room from the fifth (room-0004, room-0014, …) has had its range changed twice
# in the last week, by the bench: 5 days ago one degree warmer, 2 days ago half a degree
# narrower on each side. Its excursions over 7 days judge each instant by one of three versions.
TWO_CHANGES_EVERY, TWO_CHANGES_AT = 10, 4
RANGE_CHANGES = (
    (2, "5 days", 1.0, 1.0, "bench: range one degree warmer"),
    (3, "2 days", 1.5, 0.5, "bench: range narrowed"),
)


def room_ranges_sql() -> str:
    """The acceptable range of each loaded room, deterministic from its number: 18–23, 18.5–23.5
    or 19–24 °C in turn, and none for every tenth room (status `no_range`). The readings (a
    base of 17–24 °C, a daily swing of ±3 °C) leave the range now and then: excursions. Each
    ranged room gets that range as its version 1 (at its `created_at`, as the migration gives
    it), which every judge of readings reads; the rooms of `TWO_CHANGES_AT` get two more
    versions (`RANGE_CHANGES`), as `services.room_update` writes them, and the newest as their
    range. One statement, and nothing twice on a reused set: there the two changes move to
    5 and 2 days before now again (the readings are topped up to now), so the last 7 days
    always hold both."""
    from measurements.models import RangeVersion, Room

    fields = {f.name: f.column for f in Room._meta.concrete_fields}
    table, key = Room._meta.db_table, fields["room_id"]
    versions = {f.name: f.column for f in RangeVersion._meta.concrete_fields}
    changes = " UNION ALL ".join(
        f"SELECT id, {number}, lo + {up_min}, hi + {up_max}, now() - interval '{ago}', "
        f"'{reason}' FROM first WHERE n % {TWO_CHANGES_EVERY} = {TWO_CHANGES_AT}"
        for number, ago, up_min, up_max, reason in RANGE_CHANGES
    )
    return f"""
        WITH first AS (
            SELECT {key} AS id, n, 18 + (n % 3) * 0.5 AS lo, 23 + (n % 3) * 0.5 AS hi,
                   {fields["created_at"]} AS at
            FROM (SELECT *, substr({key}, 6)::int AS n FROM {table}
                  WHERE {key} ~ '^room-[0-9]+$') AS r
        ), history (room, version, lo, hi, at, reason) AS (
            SELECT id, 1, lo, hi, at, '' FROM first WHERE n % 10 <> 9
            UNION ALL {changes}
        ), newest AS (
            SELECT first.id, h.lo, h.hi FROM first LEFT JOIN LATERAL (
                SELECT lo, hi FROM history WHERE history.room = first.id
                ORDER BY version DESC LIMIT 1
            ) AS h ON true
        ), ranged AS (
            UPDATE {table} SET {fields["min_c"]} = newest.lo, {fields["max_c"]} = newest.hi
            FROM newest WHERE {table}.{key} = newest.id
        )
        INSERT INTO {RangeVersion._meta.db_table}
            ({versions["room"]}, {versions["version"]}, {versions["min_c"]}, {versions["max_c"]},
             {versions["changed_at"]}, {versions["changed_by"]}, {versions["reason"]})
        SELECT room, version, lo, hi, at, CASE WHEN version > 1 THEN 'bench' END, reason
        FROM history
        ON CONFLICT ({versions["room"]}, {versions["version"]}) DO UPDATE
            SET {versions["changed_at"]} = EXCLUDED.{versions["changed_at"]}
            WHERE EXCLUDED.{versions["version"]} > 1
    """


def load_measurements(conn: psycopg.Connection, scale: Scale, now: datetime) -> dict[str, float]:
    from measurements.models import Measurement, Room

    started = time.monotonic()
    fields = {f.name: f.column for f in Room._meta.concrete_fields}
    first = ts(now - scale.reading_every * scale.readings_per_room)
    # Every other column that is not null has a default in the model, not in the table (the
    # alarm rules): COPY writes it (`str` of a timedelta, float or bool is valid input).
    defaults = [
        f
        for f in Room._meta.concrete_fields
        if f.name not in ("room_id", "name", "created_at") and f.has_default() and not f.null
    ]
    rest = "".join(f"\t{f.get_default()}" for f in defaults)
    copy_rows(
        conn,
        Room._meta.db_table,
        [fields["room_id"], fields["name"], fields["created_at"], *(f.column for f in defaults)],
        (f"{room}\t\t{first}{rest}\n" for room in room_ids(scale)),
    )
    conn.execute(room_ranges_sql())
    fields = {f.name: f.column for f in Measurement._meta.concrete_fields}
    bulk_load(
        conn,
        Measurement._meta.db_table,
        [fields[name] for name in ("room", "timestamp", "sensor", "value")],
        reading_lines(scale, now),
        "readings",
    )
    conn.execute(ROOM_JUDGEMENTS_SQL)
    return {"readings": time.monotonic() - started}


# Each loaded room judged until its newest reading, as monitoring's migration 0003 does for the
# rooms that had readings when alarms came (the data set is loaded after migrating): a bench
# post judges its own reading, not the room's whole history, which the first post of each room
# would otherwise judge in its request (20,000 readings, raising the alarms of every past
# excursion), whether it is the route's or a floor's turn.
ROOM_JUDGEMENTS_SQL = """
    INSERT INTO monitoring_roomjudgement (room_id, judged_until, run_kind, run_readings,
                                          alarms_active)
    SELECT r.room_id, (SELECT max(m."timestamp") FROM measurements_measurement m
                       WHERE m.room_id = r.room_id), '', 0, false
    FROM measurements_room r
    ON CONFLICT (room_id) DO NOTHING
"""
