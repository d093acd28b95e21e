"""`archive_measurements` while sensors keep posting: no reading lost, none archived twice."""

import threading
from datetime import datetime, timedelta
from functools import partial

import pytest
from django.utils import timezone

from measurements.archiving import TableSink, readings_archive
from measurements.models import ArchivedMeasurement, Measurement, Room
from measurements.services import Reading, readings_ingest
from tests.conftest import Race

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

SEEDED = 4000
POSTERS = 4
READINGS_PER_POST = 20


def _keys(model: type[Measurement] | type[ArchivedMeasurement]) -> list[tuple[str, datetime, str]]:
    return list(model.objects.values_list("room_id", "timestamp", "sensor"))


def test_readings_posted_during_an_archive_run_are_neither_lost_nor_archived_twice(
    race: Race,
) -> None:
    now = timezone.now()
    cutoff = now - timedelta(days=7)
    room = Room.objects.create(room_id="lab-1")
    old = now - timedelta(days=30)
    Measurement.objects.bulk_create(
        Measurement(room=room, timestamp=old + timedelta(seconds=i), sensor="seed", value=20.0)
        for i in range(SEEDED)
    )
    expected = set(_keys(Measurement))
    lock = threading.Lock()
    archive_done = threading.Event()
    during: list[int] = []

    def archive() -> int:
        try:
            return readings_archive(cutoff=cutoff, sink=TableSink(), batch_size=50)
        finally:
            archive_done.set()

    def post(poster: int) -> None:
        batch = 0
        # Keep posting until the archive run is over (and a few times at least): half of
        # each batch is new, half is late (older than the cutoff, as a backlog flush is).
        while not archive_done.is_set() or batch < 5:
            readings = []
            for i in range(READINGS_PER_POST):
                sensor = f"s{poster}"
                base = now if i % 2 else old - timedelta(days=1)
                instant = base + timedelta(microseconds=batch * READINGS_PER_POST + i)
                readings.append(Reading(timestamp=instant, value=21.0, sensor=sensor))
            result = readings_ingest(room_id="lab-1", readings=readings)
            assert result.created == READINGS_PER_POST
            with lock:
                expected.update(("lab-1", r.timestamp, r.sensor) for r in readings)
                if not archive_done.is_set():
                    during.append(batch)
            batch += 1

    moved, *_ = race([archive] + [partial(post, p) for p in range(POSTERS)])
    assert during, "no post landed while the archive ran: the test proved nothing"

    live, archived = _keys(Measurement), _keys(ArchivedMeasurement)
    assert len(set(archived)) == len(archived)  # none archived twice
    assert not set(live) & set(archived)  # none both live and archived
    assert set(live) | set(archived) == expected  # none lost
    assert len(live) + len(archived) == len(expected)
    assert moved == len(archived) >= SEEDED
    assert all(ts < cutoff for _, ts, _ in archived)
    # What stays live is what was new, or late readings that arrived after their room's pass.
    assert all(ts >= cutoff or sensor != "seed" for _, ts, sensor in live)
