"""`archive_measurements`: old readings leave the live table, none lost, none archived twice."""

import csv
import gzip
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from measurements.models import ArchivedMeasurement, Measurement
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def readings() -> None:
    """Two rooms, each with readings 1–5 days old and one from the last half hour."""
    now = timezone.now()
    for room_id in ("lab-1", "lab-2"):
        room = RoomFactory(room_id=room_id)
        for days in (1, 2, 3, 4, 5):
            MeasurementFactory(room=room, timestamp=now - timedelta(days=days), value=20 + days)
        MeasurementFactory(room=room, timestamp=now - timedelta(minutes=30), value=19.5)


def _keys(rows) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(r.room_id, r.timestamp.isoformat(), r.sensor) for r in rows}


def test_old_readings_move_to_the_archive_table_in_batches_and_new_ones_stay(
    readings, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    before = _keys(Measurement.objects.all())
    call_command("archive_measurements", "--older-than", "36h", "--batch-size", "2")
    out = capsys.readouterr().out
    assert "Archived 8 reading(s)" in out
    assert "older than P1DT12H" in out
    live, archived = _keys(Measurement.objects.all()), _keys(ArchivedMeasurement.objects.all())
    assert len(live) == 4  # 1 day old and the last hour's, in both rooms
    assert len(archived) == 8
    assert live | archived == before
    assert not live & archived
    kept = ArchivedMeasurement.objects.get(room_id="lab-1", value=25)
    assert kept.archived_at is not None


def test_archived_readings_no_longer_count_in_the_average(readings, reader_client) -> None:  # type: ignore[no-untyped-def]
    response = reader_client.get("/api/measurements/lab-1/average/P7D")
    assert response.json()["count"] == 6
    call_command("archive_measurements", "--older-than", "P2DT12H")
    response = reader_client.get("/api/measurements/lab-1/average/P7D")
    assert response.json()["count"] == 3


@pytest.mark.parametrize("suffix", [".csv.gz", ".jsonl.gz"])
def test_an_output_file_holds_exactly_the_archived_readings(
    readings, tmp_path: Path, suffix: str
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / f"readings{suffix}"
    expected = {
        (m.room_id, m.timestamp.isoformat(), m.sensor, m.value)
        for m in Measurement.objects.filter(timestamp__lt=timezone.now() - timedelta(hours=60))
    }
    call_command(
        "archive_measurements", "--older-than", "60h", "--output", str(path), "--batch-size", "3"
    )
    with gzip.open(path, "rt") as text:
        if suffix == ".csv.gz":
            rows = list(csv.DictReader(text))
        else:
            rows = [json.loads(line) for line in text]
    got = {(r["room_id"], r["timestamp"], r["sensor"], float(r["value"])) for r in rows}
    assert got == expected
    assert len(rows) == len(expected) == 6
    assert not ArchivedMeasurement.objects.exists()
    assert Measurement.objects.count() == 6


def test_dry_run_counts_and_moves_nothing(readings, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    call_command("archive_measurements", "--older-than", "P3DT12H", "--dry-run")
    assert "would archive 4 reading(s)" in capsys.readouterr().out
    assert Measurement.objects.count() == 12
    assert not ArchivedMeasurement.objects.exists()


def test_a_second_run_finds_nothing_more(readings, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    call_command("archive_measurements", "--older-than", "P1DT12H")
    assert "Archived 8 reading(s)" in capsys.readouterr().out
    call_command("archive_measurements", "--older-than", "P1DT12H")
    assert "Archived 0 reading(s)" in capsys.readouterr().out
    assert ArchivedMeasurement.objects.count() == 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "1 month"], "--older-than"),
        (["--older-than", "P1M"], "years and months"),
        (["--older-than", "0s"], "positive"),
        (["--older-than=-1d"], "positive"),
        (["--older-than", "1d", "--batch-size", "0"], "--batch-size"),
        (["--older-than", "1d", "--batch-size", "ten"], "not a whole number"),
        (["--older-than", "1d", "--output", "readings.csv"], ".csv.gz or .jsonl.gz"),
        (["--older-than", "1d", "--output", "/nonexistent-dir/readings.csv.gz"], "--output"),
        ([], "--older-than"),
    ],
)
def test_bad_arguments_are_refused_and_change_nothing(readings, args, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match=message):
        call_command("archive_measurements", *args)
    assert Measurement.objects.count() == 12
    assert not ArchivedMeasurement.objects.exists()


def test_an_existing_output_file_is_never_overwritten(readings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "readings.jsonl.gz"
    path.write_bytes(b"precious")
    with pytest.raises(CommandError, match="already exists"):
        call_command("archive_measurements", "--older-than", "1d", "--output", str(path))
    assert path.read_bytes() == b"precious"
    assert Measurement.objects.count() == 12
