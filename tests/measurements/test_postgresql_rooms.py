"""On PostgreSQL: excursions, time-weighted averages, MKT and judged instants are computed by
the database, give the answers of the portable path on irregular data with a range history,
and read the readings by index range scans."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from measurements import selectors
from measurements.models import RangeVersion, Room
from measurements.selectors import instants, mkt, ranges, runs, weighted
from measurements.services import Reading, readings_ingest, room_update

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


def _random_history(room_id: str, rng: random.Random) -> None:
    """Versions of the room's range changed at random instants of its readings (a clearing
    among them), stored as `room_update` stores them."""
    at = START
    for version in range(1, 5):
        at += timedelta(seconds=rng.randint(1_000, 8_000))
        low = rng.uniform(17, 19)
        bounds = (None, None) if version == 3 else (low, low + 3)
        RangeVersion.objects.create(
            room_id=room_id,
            version=version,
            min_c=bounds[0],
            max_c=bounds[1],
            changed_at=at,
            reason="" if version == 1 else "a test's change",
        )


def _portable_summary(room_id: str, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    previous = instants.previous_instant(room_id, start)
    return weighted._time_weighted(previous, instants.instants(room_id, start, end), start, end)


def _portable_mkt(room_id: str, start: datetime, end: datetime, energy: float) -> float | None:
    previous = instants.previous_instant(room_id, start)
    weighing = weighted.weigh(previous, instants.instants(room_id, start, end), start, end)
    return mkt.mkt_of(weighing, mkt.h_over_r(energy))


def _portable_excursions(room_id: str, start: datetime, end: datetime) -> list[runs.Excursion]:
    previous = instants.previous_instant(room_id, start)
    versions = ranges.range_versions_covering(room_id, previous.at if previous else start, end)
    return list(runs._runs(instants.instants(room_id, start, end), versions, previous))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_database_and_the_portable_path_agree_on_irregular_readings(seed: int) -> None:
    _irregular_room("lab-1", seed)
    rng = random.Random(seed)
    _random_history("lab-1", rng)
    judged = selectors.judged_instants("lab-1")
    versions = list(RangeVersion.objects.of_room("lab-1"))
    assert {(j.min_c, j.max_c) for j in judged} == {(v.min_c, v.max_c) for v in versions}
    for instant in judged:
        version = ranges.range_in_force(versions, instant.at)
        assert version is not None
        assert (instant.min_c, instant.max_c) == (version.min_c, version.max_c)
    runs_found = 0
    for _ in range(5):
        start = START + timedelta(seconds=rng.randint(0, 20_000))
        end = start + timedelta(seconds=rng.randint(1, 30_000))
        sql = selectors.time_weighted_summary("lab-1", start, end)
        portable = _portable_summary("lab-1", start, end)
        assert sql["count"] == portable["count"]
        assert (sql["min"], sql["max"]) == (portable["min"], portable["max"])
        assert sql["average"] == pytest.approx(portable["average"], rel=1e-12)

        energy = rng.choice([83.144, 60.0, 1000.0])
        sql_mkt = selectors.mkt_summary("lab-1", start, end, energy)
        assert sql_mkt["count"] == portable["count"]
        assert sql_mkt["average"] == pytest.approx(_portable_mkt("lab-1", start, end, energy))

        found = selectors.excursions("lab-1", start, end)
        assert found == _portable_excursions("lab-1", start, end)
        runs_found += len(found)

        width = timedelta(minutes=rng.choice([5, 15, 60]))
        buckets = selectors.time_weighted_buckets("lab-1", start, end, width)
        assert buckets, "the window should hold readings"
        kinetic = selectors.mkt_buckets("lab-1", start, end, width, energy)
        assert [b.start for b in kinetic] == [b.start for b in buckets]
        previous = instants.previous_instant("lab-1", start)
        for bucket, hot in zip(buckets, kinetic, strict=True):
            window_start = max(bucket.start, start)
            window_end = min(bucket.start + width, end)
            # The bucket alone, as its own window: only its readings (the end is exclusive
            # unless it is the series' end).
            inside = [
                step
                for step in instants.instants("lab-1", window_start, window_end)
                if step.at < bucket.start + width
            ]
            expected = weighted._time_weighted(previous, inside, window_start, window_end)
            assert bucket.count == expected["count"]
            assert bucket.average == pytest.approx(expected["average"], rel=1e-12)
            weighing = weighted.weigh(previous, inside, window_start, window_end)
            assert hot.count == bucket.count
            assert hot.average == pytest.approx(mkt.mkt_of(weighing, mkt.h_over_r(energy)))
            previous = inside[-1]
    assert runs_found, "the data should leave the range now and then"


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The reads captured, without the savepoints and settings around them."""
    found = [query["sql"] for query in queries.captured_queries]
    return [sql for sql in found if sql.lstrip().upper().startswith(("SELECT", "WITH"))]


def _plans(queries: CaptureQueriesContext) -> str:
    plans = []
    with connection.cursor() as cursor:
        for sql in _statements(queries):
            cursor.execute("EXPLAIN " + sql)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(plans)


def test_excursions_time_weighted_averages_and_statuses_read_the_index_not_the_table() -> None:
    for r in range(20):
        readings = [
            Reading(timestamp=START + timedelta(seconds=90 * i), value=20 + 3 * ((i // 40) % 3 - 1))
            for i in range(3000)
        ]
        readings_ingest(room_id=f"room-{r:02d}", readings=readings)
        room_update(room=f"room-{r:02d}", min_c=18.5, max_c=21.5)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE measurements_measurement")
    end = START + timedelta(seconds=90 * 2999)  # the last reading: 23 °C, a "high" block
    with CaptureQueriesContext(connection) as queries:
        found = selectors.excursions("room-07", end - timedelta(days=7), end)
        day = selectors.time_weighted_summary("room-07", end - timedelta(days=1), end)
        month = selectors.mkt_summary("room-07", end - timedelta(days=30), end)
        judged = selectors.judged_instants("room-07", after=end - timedelta(hours=1))
        series = selectors.time_weighted_buckets(
            "room-07", end - timedelta(days=1), end, timedelta(hours=1)
        )
        rooms = list(Room.objects.with_status(now=end, stale_after=timedelta(minutes=15))[:50])
    # One statement each: a week's excursions only walk, with nothing around the statement.
    assert len(queries) == 6
    assert len(found) == 50
    assert month["count"] == 3000
    assert len(judged) == 40
    assert found[-1].end is None
    assert day["count"] == 961
    assert len(series) == 25
    assert {room.status for room in rooms} == {"high"}  # type: ignore[attr-defined]
    plans = _plans(queries)
    assert "measurement_room_ts_sensor_uniq" in plans, plans
    assert "Seq Scan on measurements_measurement" not in plans, plans
