"""On PostgreSQL: the average is an index range scan, and racing sensors lose no reading."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from measurements.models import Measurement, Room
from measurements.services import Reading, readings_ingest
from tests.conftest import Race
from tests.factories import UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

START = datetime(2025, 1, 1, tzinfo=UTC)


def twenty_rooms_of_readings() -> None:
    """Enough readings that PostgreSQL prefers the index, and a visibility map for it."""
    for r in range(20):
        readings = [
            Reading(timestamp=START + timedelta(minutes=i), value=20.0 + (i % 7), sensor="s")
            for i in range(2000)
        ]
        readings_ingest(room_id=f"room-{r}", readings=readings)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE measurements_measurement")


def plan_of(sql: str, params: object = ()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_window_average_is_one_index_only_range_scan_on_the_unique_index() -> None:
    twenty_rooms_of_readings()
    end = START + timedelta(days=1)
    with CaptureQueriesContext(connection) as queries:
        summary = Measurement.objects.window("room-7", end - timedelta(hours=1), end).summary()
    assert len(queries) == 1  # one aggregate query
    assert summary["count"] == 61
    plan = plan_of(queries[0]["sql"])
    # Only when the index carries the value (INCLUDE (value)) is the table never read.
    assert "Index Only Scan using measurement_room_ts_sensor_uniq" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_each_rooms_last_reading_is_one_backward_probe_of_the_unique_index() -> None:
    twenty_rooms_of_readings()
    rooms = Room.objects.with_last_reading().order_by("room_id")[:50]
    plan = plan_of(*rooms.query.sql_with_params())
    assert "Index Only Scan Backward using measurement_room_ts_sensor_uniq" in plan, plan
    assert "Seq Scan on measurements_measurement" not in plan, plan


def test_two_hundred_concurrent_posts_to_one_new_room_are_all_stored(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    sensor = UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    posts = 200

    def post(client: APIClient, i: int) -> int:
        timestamp = (START + timedelta(seconds=i)).isoformat()
        return client.post(
            "/api/measurements/busy-room", {"value": 20 + i % 5, "timestamp": timestamp}
        ).status_code

    statuses = race([partial(post, client_for(sensor), i) for i in range(posts)], threads=20)
    assert statuses == [201] * posts
    assert Room.objects.filter(room_id="busy-room").count() == 1
    assert Measurement.objects.filter(room_id="busy-room").count() == posts


def test_racing_retries_of_one_reading_store_it_once(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    sensor = UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    workers = 10

    def post(client: APIClient, i: int) -> int:
        return client.post(
            "/api/measurements/lab-1",
            {"value": 20 + i, "timestamp": "2025-04-01T10:00:00Z", "sensor": "s"},
        ).status_code

    statuses = sorted(race([partial(post, client_for(sensor), i) for i in range(workers)]))
    assert statuses == [200] * (workers - 1) + [201]
    assert Measurement.objects.count() == 1


def test_concurrent_batches_overlapping_each_other_count_every_reading_once(race: Race) -> None:
    readings = [Reading(timestamp=START + timedelta(seconds=i), value=20.0) for i in range(3000)]

    def ingest(i: int) -> tuple[int, int]:
        result = readings_ingest(room_id="shared", readings=readings[i * 500 : i * 500 + 1500])
        return result.created, result.duplicates

    results = race([partial(ingest, i) for i in range(4)])
    assert sum(created for created, _ in results) == Measurement.objects.count() == 3000
    assert sum(created + duplicates for created, duplicates in results) == 4 * 1500
