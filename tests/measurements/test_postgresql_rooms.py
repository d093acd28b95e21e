"""On PostgreSQL: excursions and time-weighted averages are computed by the database, give the
answers of the portable path on irregular data, and read the readings by index range scans."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measurements import selectors
from measurements.models import Room
from measurements.services import Reading, readings_ingest

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]

START = datetime(2025, 1, 1, tzinfo=UTC)


def _irregular_room(room_id: str, seed: int) -> None:
    """Two sensors at irregular intervals, sometimes at the same instant, around 18–22 °C."""
    rng = random.Random(seed)
    readings = []
    at = START
    for _ in range(600):
        at += timedelta(seconds=rng.choice([10, 10, 30, 300, 17.5]))
        for sensor in rng.choice([["a"], ["b"], ["a", "b"]]):
            value = round(rng.gauss(20, 2.5), 1)
            readings.append(Reading(timestamp=at, value=value, sensor=sensor))
    readings_ingest(room_id=room_id, readings=readings)


def _portable_summary(room_id: str, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    previous = selectors._previous_step(room_id, start)
    return selectors._time_weighted(previous, selectors._steps(room_id, start, end), start, end)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_database_and_the_portable_path_agree_on_irregular_readings(seed: int) -> None:
    _irregular_room("lab-1", seed)
    rng = random.Random(seed)
    for _ in range(5):
        start = START + timedelta(seconds=rng.randint(0, 20_000))
        end = start + timedelta(seconds=rng.randint(1, 30_000))
        sql = selectors.time_weighted_summary("lab-1", start, end)
        portable = _portable_summary("lab-1", start, end)
        assert sql["count"] == portable["count"]
        assert (sql["min"], sql["max"]) == (portable["min"], portable["max"])
        assert sql["average"] == pytest.approx(portable["average"], rel=1e-12)

        low = rng.uniform(17, 19)
        found = selectors.excursions("lab-1", start, end, low, low + 3)
        rows = (
            Room.objects.get(pk="lab-1")
            .measurements.filter(timestamp__gte=start, timestamp__lte=end)
            .order_by("timestamp", "sensor")
            .values_list("timestamp", "value")
        )
        assert found == list(selectors._runs(rows, low, low + 3))
        assert found, "the data should leave the range now and then"

        width = timedelta(minutes=rng.choice([5, 15, 60]))
        buckets = selectors.time_weighted_buckets("lab-1", start, end, width)
        assert buckets, "the window should hold readings"
        previous = selectors._previous_step("lab-1", start)
        for bucket in buckets:
            window_start = max(bucket.start, start)
            window_end = min(bucket.start + width, end)
            # The bucket alone, as its own window: only its readings (the end is exclusive
            # unless it is the series' end).
            inside = [
                step
                for step in selectors._steps("lab-1", window_start, window_end)
                if step.at < bucket.start + width
            ]
            expected = selectors._time_weighted(previous, inside, window_start, window_end)
            assert bucket.count == expected["count"]
            assert bucket.average == pytest.approx(expected["average"], rel=1e-12)
            previous = inside[-1]


def _plans(queries: CaptureQueriesContext) -> str:
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute("EXPLAIN " + query["sql"])
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def test_excursions_time_weighted_averages_and_statuses_read_the_index_not_the_table() -> None:
    for r in range(20):
        readings = [
            Reading(timestamp=START + timedelta(seconds=90 * i), value=20 + 3 * ((i // 40) % 3 - 1))
            for i in range(3000)
        ]
        readings_ingest(room_id=f"room-{r:02d}", readings=readings)
    Room.objects.update(min_c=18.5, max_c=21.5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE measurements_measurement")
    end = START + timedelta(seconds=90 * 2999)  # the last reading: 23 °C, a "high" block
    with CaptureQueriesContext(connection) as queries:
        found = selectors.excursions("room-07", end - timedelta(days=7), end, 18.5, 21.5)
        day = selectors.time_weighted_summary("room-07", end - timedelta(days=1), end)
        series = selectors.time_weighted_buckets(
            "room-07", end - timedelta(days=1), end, timedelta(hours=1)
        )
        rooms = list(Room.objects.with_status(now=end, stale_after=timedelta(minutes=15))[:50])
    assert len(queries) == 4  # one statement each
    assert len(found) == 50
    assert found[-1].end is None
    assert day["count"] == 961
    assert len(series) == 25
    assert {room.status for room in rooms} == {"high"}  # type: ignore[attr-defined]
    plans = _plans(queries)
    assert "measurement_room_ts_sensor_uniq" in plans, plans
    assert "Seq Scan on measurements_measurement" not in plans, plans
