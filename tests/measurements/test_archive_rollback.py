"""A batch whose commit fails is archived neither in the file nor in the table, and a later run
archives it exactly once (DESIGN §6: "without losing a reading, without archiving one twice").

The failing commit is real: a deferred constraint trigger created by the test refuses, at commit
time, to delete one reading, after the sink has already taken its batch.
"""

import csv
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import DatabaseError, connection

from measurements.archiving import FileSink, TableSink, readings_archive
from measurements.models import ArchivedMeasurement, Measurement
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

START = datetime(2025, 1, 1, tzinfo=UTC)
CUTOFF = START + timedelta(days=1)


@pytest.fixture
def poisoned_commit() -> Iterator[None]:
    """Four old readings; the commit of a batch that deletes the `poison` one fails."""
    room = RoomFactory(room_id="lab-1")
    for i, sensor in enumerate(["a", "a", "a", "poison"]):
        MeasurementFactory(room=room, timestamp=START + timedelta(minutes=i), sensor=sensor)
    with connection.cursor() as cursor:
        cursor.execute(
            """CREATE FUNCTION test_refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN
                 IF OLD.sensor = 'poison' THEN RAISE EXCEPTION 'commit refused by the test'; END IF;
                 RETURN NULL;
               END $$"""
        )
        cursor.execute(
            """CREATE CONSTRAINT TRIGGER test_refuse_commit AFTER DELETE ON measurements_measurement
               DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_commit()"""
        )
    yield
    lift_the_poison()


def lift_the_poison() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_refuse_commit ON measurements_measurement")
        cursor.execute("DROP FUNCTION IF EXISTS test_refuse_commit()")


def archived_in(path: Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt") as file:  # every gzip member, in order
        return [(row["timestamp"], row["sensor"]) for row in csv.DictReader(file)]


def live() -> list[str]:
    return list(Measurement.objects.order_by("timestamp").values_list("sensor", flat=True))


def test_a_file_keeps_only_the_batches_whose_commit_succeeded(
    poisoned_commit: None, tmp_path: Path
) -> None:
    path = tmp_path / "first.csv.gz"
    with pytest.raises(DatabaseError, match="commit refused by the test"):
        readings_archive(cutoff=CUTOFF, sink=FileSink(path), batch_size=2)
    # The first batch committed; the second was written to the file, then cut back out of it.
    first = archived_in(path)
    assert [sensor for _, sensor in first] == ["a", "a"]
    assert live() == ["a", "poison"]

    lift_the_poison()
    assert readings_archive(cutoff=CUTOFF, sink=FileSink(tmp_path / "second.csv.gz")) == 2
    second = archived_in(tmp_path / "second.csv.gz")
    assert [sensor for _, sensor in second] == ["a", "poison"]
    assert not set(first) & set(second)  # none archived twice
    assert live() == []


def test_the_table_keeps_only_the_batches_whose_commit_succeeded(poisoned_commit: None) -> None:
    with pytest.raises(DatabaseError, match="commit refused by the test"):
        readings_archive(cutoff=CUTOFF, sink=TableSink(), batch_size=2)
    assert ArchivedMeasurement.objects.count() == 2
    assert live() == ["a", "poison"]

    lift_the_poison()
    assert readings_archive(cutoff=CUTOFF, sink=TableSink()) == 2
    assert ArchivedMeasurement.objects.count() == 4
    assert live() == []
