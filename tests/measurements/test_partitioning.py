"""The readings table, as our migrations create it, can become a table partitioned by time.

docs/SCALING.md describes when to do it; this test is the proof that our schema and queries
allow it: it converts `measurements_measurement` into a native PostgreSQL range-partitioned
table (one partition per month, the unique key extended by nothing, since it already holds
the partition key `timestamp`), then checks that ingestion (single and bulk, duplicates
included) and the window average answer exactly as before, and that the average reads only
the partitions its window touches. DDL is transactional on PostgreSQL: the test's rollback
puts the plain table back.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from measurements.models import Measurement
from measurements.services import Reading, reading_record, readings_ingest
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]

START = datetime(2025, 1, 1, tzinfo=UTC)
MONTHS = [datetime(2024, 12, 1, tzinfo=UTC)] + [datetime(2025, m, 1, tzinfo=UTC) for m in (1, 2, 3)]

# The conversion an operator would run (in a maintenance window, or with the new table filled
# in batches like archive_measurements does): same columns, identity continued, the primary
# key and the unique key both include the partition key, as PostgreSQL requires.
CONVERT = [
    # Run pending deferred foreign-key checks now: a table with pending ones cannot be dropped.
    "SET CONSTRAINTS ALL IMMEDIATE",
    "ALTER TABLE measurements_measurement RENAME TO measurements_measurement_plain",
    """
    CREATE TABLE measurements_measurement (
        LIKE measurements_measurement_plain INCLUDING DEFAULTS INCLUDING IDENTITY
            INCLUDING CONSTRAINTS
    ) PARTITION BY RANGE ("timestamp")
    """,
    'ALTER TABLE measurements_measurement ADD PRIMARY KEY (id, "timestamp")',
    """
    ALTER TABLE measurements_measurement ADD CONSTRAINT measurement_room_ts_sensor_uniq_p
        UNIQUE (room_id, "timestamp", sensor) INCLUDE (value)
    """,
    """
    ALTER TABLE measurements_measurement ADD CONSTRAINT measurement_room_fk_p
        FOREIGN KEY (room_id) REFERENCES measurements_room (room_id) DEFERRABLE INITIALLY DEFERRED
    """,
]


def partition_ddl(month: datetime) -> str:
    following = (month + timedelta(days=32)).replace(day=1)
    return (
        f"CREATE TABLE measurements_measurement_{month:%Y_%m} PARTITION OF "
        f"measurements_measurement FOR VALUES FROM ('{month.isoformat()}') "
        f"TO ('{following.isoformat()}')"
    )


def convert_to_partitioned() -> None:
    with connection.cursor() as cursor:
        for statement in CONVERT:
            cursor.execute(statement)
        for month in MONTHS:
            cursor.execute(partition_ddl(month))
        cursor.execute(
            "CREATE TABLE measurements_measurement_rest PARTITION OF measurements_measurement DEFAULT"
        )
        cursor.execute(
            'INSERT INTO measurements_measurement (id, room_id, "timestamp", sensor, value) '
            "OVERRIDING SYSTEM VALUE SELECT id, room_id, timestamp, sensor, value "
            "FROM measurements_measurement_plain"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('measurements_measurement', 'id'), "
            "(SELECT coalesce(max(id), 0) + 1 FROM measurements_measurement_plain), false)"
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DROP TABLE measurements_measurement_plain")
        cursor.execute("ANALYZE measurements_measurement")


def load(room_id: str, days: int) -> None:
    readings = [
        Reading(timestamp=START + timedelta(minutes=15 * i), value=18 + (i % 11) / 2)
        for i in range(days * 96)
    ]
    readings_ingest(room_id=room_id, readings=readings)


def answers() -> list[object]:
    end = START + timedelta(days=40)
    return [
        Measurement.objects.window(room, end - span, end).summary()
        for room in ("lab-1", "lab-2")
        for span in (timedelta(hours=1), timedelta(days=1), timedelta(days=7), timedelta(days=60))
    ]


def test_the_readings_table_converts_to_monthly_partitions_and_our_queries_still_answer() -> None:
    load("lab-1", 45)
    load("lab-2", 10)
    before = answers()
    count = Measurement.objects.count()

    convert_to_partitioned()
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'measurements_measurement'")
        assert cursor.fetchone() == ("p",)  # a partitioned table now
    assert Measurement.objects.count() == count
    assert answers() == before

    # Ingestion: new rows land in their month, a repeated reading is still a duplicate.
    late = [Reading(timestamp=START + timedelta(days=59, minutes=i), value=21.0) for i in range(5)]
    result = readings_ingest(room_id="lab-1", readings=[*late, late[0]])
    assert (result.created, result.duplicates) == (5, 1)
    assert readings_ingest(room_id="lab-1", readings=late).duplicates == 5
    first = reading_record(room_id="lab-3", value=20.0, timestamp=START)
    again = reading_record(room_id="lab-3", value=99.0, timestamp=START)
    assert first.created
    assert not again.created
    assert again.measurement.value == 20.0
    assert again.measurement.pk == first.measurement.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM measurements_measurement WHERE id = %s",
            [first.measurement.pk],
        )
        assert cursor.fetchone() == ("measurements_measurement_2025_01",)

    # The window average reads only the partitions its window overlaps.
    end = START + timedelta(days=40)
    window = Measurement.objects.window("lab-1", end - timedelta(days=1), end)
    with CaptureQueriesContext(connection) as queries:
        window.summary()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "measurements_measurement_2025_02" in plan, plan
    assert "measurements_measurement_2025_01" not in plan, plan
    assert "measurements_measurement_2025_03" not in plan, plan


def test_the_api_answers_the_same_from_a_partitioned_readings_table() -> None:
    sensor, reader = APIClient(), APIClient()
    sensor.force_authenticate(
        UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    )
    reader.force_authenticate(UserFactory(username="reader"))
    now = datetime.now(UTC).replace(microsecond=0)
    body = [
        {"timestamp": (now - timedelta(minutes=10 * i)).isoformat(), "value": 20 + i % 3}
        for i in range(200)
    ]
    assert sensor.post("/api/measurements/lab-9", body, format="json").status_code == 201
    before = reader.get("/api/measurements/lab-9/average/P1D").json()
    with connection.cursor() as cursor:
        for statement in CONVERT:
            cursor.execute(statement)
        cursor.execute(
            "CREATE TABLE measurements_measurement_all PARTITION OF measurements_measurement "
            "DEFAULT"
        )
        cursor.execute(
            'INSERT INTO measurements_measurement (id, room_id, "timestamp", sensor, value) '
            "OVERRIDING SYSTEM VALUE SELECT id, room_id, timestamp, sensor, value "
            "FROM measurements_measurement_plain"
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("DROP TABLE measurements_measurement_plain")
    after = reader.get("/api/measurements/lab-9/average/P1D").json()
    assert before["count"] == 144  # the reading exactly one day old has just left the window
    for key in ("count", "average", "min", "max"):
        assert after[key] == before[key]
    one = {"value": 25.0, "timestamp": now.isoformat()}
    assert sensor.post("/api/measurements/lab-9", one, format="json").status_code == 200
