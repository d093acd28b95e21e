"""Calibrations as files: the point-in-time snapshot (JSON Lines or CSV) and the admin's CSV
export of a filtered list. Streamed: rows are read with a server-side cursor in chunks and
written out in blocks, so memory stays flat however many rows there are.

This module sits above calibrations' models and services (it reads tag history through
`tagging.selectors`), like the API and the admin that serve its files.
"""

import csv
import heapq
import io
import itertools
import json
import queue
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db import connections, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from config.api.fields import utc_iso
from tagging.selectors import snapshot_sort_key, snapshot_text_instant, split_tag_names

SNAPSHOT_FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
CSV_HEADER = ["calibration_id", "calibration_type", "value", "timestamp", "username", "tags"]
# Rows per database fetch and per block written to the client: big enough that neither the
# round trips nor the writes dominate, small enough that memory stays a few MB.
CHUNK = 2000

# (calibration_id, type name, value, timestamp, username, tag names sorted, created_at), the
# two instants as `utc_iso` text.
Row = tuple[Any, str, float, str, str, list[str], str]

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
# The §4.2 representation, written directly: a dict per row through the JSON encoder was the
# biggest cost of a streamed snapshot after the database. `_encode` writes the strings (and the
# float, as `repr`, which is what the encoder writes); `test_snapshot` pins the output.
_LINE = (
    '{{"calibration_id":"{}","calibration_type":{},"value":{},"timestamp":"{}",'
    '"username":{},"tags":{},"created_at":"{}"}}\n'
)


def _jsonl_block(rows: list[Row]) -> str:
    return "".join(
        _LINE.format(
            pk,
            _encode(type_name),
            _encode(value),
            timestamp,
            _encode(username),
            _encode(tags),
            created_at,
        )
        for pk, type_name, value, timestamp, username, tags, created_at in rows
    )


def _csv_block(rows: list[Row], header: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(CSV_HEADER)
    writer.writerows(
        (str(pk), type_name, repr(value), timestamp, username, "|".join(tags))
        for pk, type_name, value, timestamp, username, tags, _ in rows
    )
    return out.getvalue()


def _blocks(rows: Iterable[Row], fmt: str) -> Iterator[str]:
    if fmt == "csv":
        yield _csv_block([], header=True)
    block: list[Row] = []
    for row in rows:
        block.append(row)
        if len(block) >= CHUNK:
            yield _jsonl_block(block) if fmt == "jsonl" else _csv_block(block)
            block = []
    if block:
        yield _jsonl_block(block) if fmt == "jsonl" else _csv_block(block)


def _streamed(parts: list[QuerySet[Any]], convert: Any) -> Iterator[Row]:
    # Inside a transaction PostgreSQL's server-side cursor streams; in autocommit Django
    # declares it WITH HOLD, which makes PostgreSQL compute the whole result before the first
    # row. The transaction only reads and ends with the stream (or its abandonment). Two parts
    # are two cursors open at once, merged as they stream.
    if not parts:
        return
    using = parts[0].db
    postgresql = connections[using].vendor == "postgresql"
    with transaction.atomic(using=using):
        if postgresql:
            # PostgreSQL costs a cursor's plan for every row it could return, so a tag's
            # streamed part crosses `jit_above_cost` and compiled expressions for 13-29 ms
            # before its first row; it did not speed up the full snapshot either.
            with connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        # Each cursor is opened here, on this thread's connection inside the transaction.
        streams = [_opened(part.iterator(chunk_size=CHUNK)) for part in parts]
        merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=snapshot_sort_key)
        if not postgresql:  # SQLite runs in this process: no server's time to overlap
            yield from map(convert, merged)
            return
        ahead = ReadAhead(merged)
        try:
            yield from map(convert, ahead)
        finally:
            ahead.close()


def _opened(rows: Iterator[Any]) -> Iterator[Any]:
    """`rows` with its first row read now (a QuerySet iterator opens its cursor on the first)."""
    first = next(rows, _END)
    return rows if first is _END else itertools.chain([first], rows)


_END = object()


class ReadAhead:
    """The rows of a server-side cursor, fetched by a thread while this one writes the rows
    before them. A cursor computes rows only when fetched, so without it PostgreSQL idled
    while Python wrote a block, and Python while PostgreSQL computed the next: the full
    snapshot took the sum of the two. The connection is used by that thread alone until
    `close()` returns, which stops it (at the stream's end or when the client has gone) and
    waits for it."""

    def __init__(self, rows: Iterator[Any], blocks: int = 2) -> None:
        self._rows = rows
        self._queue: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=blocks)
        self._stop = threading.Event()
        # A daemon: a worker that exits does not wait for a reader nobody reads from.
        self._thread = threading.Thread(target=self._fetch, name="snapshot-read-ahead", daemon=True)
        self._thread.start()

    def _fetch(self) -> None:
        try:
            while not self._stop.is_set():
                block = list(itertools.islice(self._rows, CHUNK))
                self._put(block)
                if not block:
                    return
        except BaseException as error:  # handed to the reading thread, raised there
            self._put(error)

    def _put(self, item: list[Any] | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def __iter__(self) -> Iterator[Any]:
        while True:
            item = self._queue.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield from item

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def snapshot_response(
    parts: list[QuerySet[Any]], *, as_of: datetime, fmt: str
) -> StreamingHttpResponse:
    """The snapshot file for the parts of `tagging.selectors.snapshot_parts`, as an attachment."""

    def convert(raw: tuple[Any, ...]) -> Row:
        pk, type_name, value, timestamp, username, joined, created_at = raw
        return (
            pk,
            type_name,
            value,
            snapshot_text_instant(timestamp),
            username,
            split_tag_names(joined),
            snapshot_text_instant(created_at),
        )

    stamp = utc_iso(as_of)
    response = StreamingHttpResponse(
        _blocks(_streamed(parts, convert), fmt), content_type=SNAPSHOT_FORMATS[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="snapshot-{stamp}.{fmt}"'
    response["X-Snapshot-Timestamp"] = stamp
    return response


def calibrations_csv_response(
    rows: QuerySet[Any], *, tags_of: Any, filename: str
) -> StreamingHttpResponse:
    """A CSV file (the snapshot's columns) of calibration value rows
    `(id, type name, value, timestamp, username)`; `tags_of(ids)` gives each chunk's tag names
    ({id: sorted names}) in one query."""

    def chunks() -> Iterator[str]:
        yield _csv_block([], header=True)
        block: list[tuple[Any, ...]] = []
        with transaction.atomic(using=rows.db):
            for raw in rows.iterator(chunk_size=CHUNK):
                block.append(raw)
                if len(block) >= CHUNK:
                    yield _tagged_csv(block, tags_of)
                    block = []
            if block:
                yield _tagged_csv(block, tags_of)

    response = StreamingHttpResponse(chunks(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _tagged_csv(block: list[tuple[Any, ...]], tags_of: Any) -> str:
    names = tags_of([raw[0] for raw in block])
    return _csv_block(
        [
            (pk, type_name, value, utc_iso(timestamp), username, names[pk], "")
            for pk, type_name, value, timestamp, username in block
        ]
    )
