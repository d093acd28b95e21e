"""Moving old readings out of the live table, in batches, while sensors keep posting.

Each batch is one transaction: lock up to `batch_size` of a room's oldest readings older than the
cutoff (`FOR UPDATE SKIP LOCKED`, so nothing waits on anything), write them to the sink, delete
them. Either the transaction commits and the readings are in the sink and gone from the live
table, or it rolls back and the sink takes its batch back: a reading is never lost and never
archived twice. New readings insert freely meanwhile: a batch locks only the rows it moves.
A run moves only readings stored before it began, so a sensor flushing an old backlog cannot
keep it going; those wait for the next run.
"""

import csv
import gzip
import io
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.batches import batched

from .models import ArchivedMeasurement, Measurement, Room

FIELDS = ["room_id", "timestamp", "sensor", "value"]


class ArchiveError(Exception):
    """The archive cannot be written (e.g. the output file exists or its name says no format)."""


@dataclass(frozen=True)
class Row:
    room_id: str
    timestamp: datetime
    sensor: str
    value: float


class Sink(Protocol):
    def write(self, rows: list[Row]) -> None:
        """Store one batch; called inside the batch's transaction."""

    def rollback(self) -> None:
        """Forget the batch last written: its transaction did not commit."""

    def close(self) -> None: ...


class TableSink:
    """The `ArchivedMeasurement` table, in the same transaction as the delete."""

    def write(self, rows: list[Row]) -> None:
        now = timezone.now()
        ArchivedMeasurement.objects.bulk_create(
            [
                ArchivedMeasurement(
                    room_id=r.room_id,
                    timestamp=r.timestamp,
                    sensor=r.sensor,
                    value=r.value,
                    archived_at=now,
                )
                for r in rows
            ],
            # A reading re-posted after it was archived, then archived again: the first stays.
            ignore_conflicts=True,
        )

    def rollback(self) -> None:
        pass  # the database rolled the rows back with the delete

    def close(self) -> None:
        pass


class FileSink:
    """A new gzip file, CSV or JSON Lines by its name; each batch is its own gzip member.

    A batch is flushed and fsynced before its transaction commits; if the commit fails the file
    is cut back to where the batch began, so the file holds exactly the committed readings.
    """

    def __init__(self, path: Path) -> None:
        name = path.name.lower()
        if name.endswith(".csv.gz"):
            self._format = "csv"
        elif name.endswith(".jsonl.gz"):
            self._format = "jsonl"
        else:
            raise ArchiveError(f"{path}: the name must end in .csv.gz or .jsonl.gz.")
        try:
            self._file: IO[bytes] = path.open("xb")
        except FileExistsError:
            raise ArchiveError(f"{path}: already exists; archives are never overwritten.") from None
        except OSError as exc:
            raise ArchiveError(f"{path}: {exc.strerror}.") from None
        self.path = path
        self._mark = 0
        if self._format == "csv":
            self._append(self._csv([FIELDS]))

    def _csv(self, records: Sequence[Sequence[object]]) -> str:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(records)
        return text.getvalue()

    def _append(self, text: str) -> None:
        self._mark = self._file.tell()
        self._file.write(gzip.compress(text.encode()))
        self._file.flush()
        os.fsync(self._file.fileno())

    def write(self, rows: list[Row]) -> None:
        if self._format == "csv":
            text = self._csv(
                [[r.room_id, r.timestamp.isoformat(), r.sensor, repr(r.value)] for r in rows]
            )
        else:
            text = "".join(
                json.dumps(
                    {
                        "room_id": r.room_id,
                        "timestamp": r.timestamp.isoformat(),
                        "sensor": r.sensor,
                        "value": r.value,
                    }
                )
                + "\n"
                for r in rows
            )
        self._append(text)

    def rollback(self) -> None:
        self._file.truncate(self._mark)
        self._file.seek(self._mark)

    def close(self) -> None:
        self._file.close()


def sink_for(output: str | None) -> Sink:
    return FileSink(Path(output)) if output else TableSink()


def check_output(output: str) -> None:
    """ArchiveError when `FileSink(output)` would refuse the path (its name, an existing
    file, a missing or unwritable folder); creates nothing, for `--dry-run`."""
    path = Path(output)
    if not path.name.lower().endswith((".csv.gz", ".jsonl.gz")):
        raise ArchiveError(f"{path}: the name must end in .csv.gz or .jsonl.gz.")
    if path.exists() or path.is_symlink():
        raise ArchiveError(f"{path}: already exists; archives are never overwritten.")
    folder = path.parent
    if not folder.is_dir():
        raise ArchiveError(f"{path}: No such file or directory.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ArchiveError(f"{path}: Permission denied.")


def readings_older_than(cutoff: datetime) -> QuerySet[Measurement]:
    return Measurement.objects.filter(timestamp__lt=cutoff)


def readings_archive(
    *,
    cutoff: datetime,
    sink: Sink,
    batch_size: int = 5000,
    progress: Callable[[int], None] = lambda moved: None,
) -> int:
    """Move every reading older than `cutoff` into `sink`; returns how many moved."""
    moved = 0
    room_ids = list(Room.objects.order_by("pk").values_list("pk", flat=True))
    # The run takes what was stored when it began: a sensor flushing an old backlog meanwhile
    # cannot keep it going forever. Whatever it leaves stays live for the next run.
    last_id = Measurement.objects.order_by("-pk").values_list("pk", flat=True).first()
    if last_id is None:
        sink.close()
        return 0
    try:
        for room_id in room_ids:
            while True:
                written = False
                try:
                    with transaction.atomic():
                        rows = _lock_batch(room_id, cutoff, last_id, batch_size)
                        if not rows:
                            break
                        sink.write(rows)
                        written = True
                except BaseException:
                    if written:  # the commit failed after the sink took the batch
                        sink.rollback()
                    raise
                moved += len(rows)
                progress(moved)
    finally:
        sink.close()
    return moved


def _lock_batch(room_id: str, cutoff: datetime, last_id: int, batch_size: int) -> list[Row]:
    locked = list(
        Measurement.objects.filter(room_id=room_id, timestamp__lt=cutoff, pk__lte=last_id)
        .order_by("timestamp", "sensor")
        .select_for_update(skip_locked=True)
        .values_list("pk", "timestamp", "sensor", "value")[:batch_size]
    )
    for batch in batched(pk for pk, *_ in locked):
        Measurement.objects.filter(pk__in=batch).delete()
    return [Row(room_id, ts, sensor, value) for _, ts, sensor, value in locked]
