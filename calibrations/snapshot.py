"""The point-in-time snapshot (DESIGN §4.4a), whole: the queries that read what the records
said at T, and the file they stream into (JSON Lines or CSV). The API's route and the console's
download both answer with `snapshot_response(snapshot_parts(…), …)`.

Rows are read with server-side cursors in chunks and written out in blocks, so memory stays
flat however many rows there are.
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
from typing import Any, TypeVar

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Aggregate, CharField, Exists, F, Func, OuterRef, QuerySet, Subquery
from django.db.models.sql.compiler import SQLCompiler
from django.http import StreamingHttpResponse

from config.api.fields import utc_iso
from config.planner import planner_settings
from tagging.models import Tag, TagAssignment, tag_sort_key

from .models import Calibration, CalibrationVersion
from .selectors import calibrations_tagged

# Joins the tag names of one calibration in SQL. Tag names cannot hold control characters
# (`normalize_tag_name`), so the unit separator cannot occur inside a name.
TAG_NAME_SEPARATOR = "\x1f"


class _JoinedNames(Aggregate):
    """`string_agg(name, chr(31))` on PostgreSQL, `group_concat(name, char(31))` on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, CHR(31))"
    output_field = CharField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="GROUP_CONCAT",
            template="%(function)s(%(expressions)s, CHAR(31))",
            **extra,
        )


class _UtcIsoText(Func):
    """An instant as ISO 8601 text in UTC with `Z`, written by the database.

    PostgreSQL always writes six digits of microseconds (`snapshot_text_instant` drops
    `.000000`, as Python's isoformat does); SQLite stores the instant in UTC as
    `YYYY-MM-DD HH:MM:SS[.ffffff]` already. Text from the database saves
    parsing every timestamp into a datetime only to format it again: that was a third of a
    streamed snapshot's CPU time.
    """

    output_field = CharField()
    template = "TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return super().as_sql(
            compiler, connection, template="REPLACE(%(expressions)s, ' ', 'T') || 'Z'", **extra
        )


def snapshot_text_instant(text: str) -> str:
    """A `_UtcIsoText` value as `utc_iso` writes it (no `.000000` for a whole second)."""
    return text[:-8] + "Z" if text.endswith(".000000Z") else text


# The columns of a snapshot row, in this order (see `snapshot_parts`).
SNAPSHOT_COLUMNS = (
    "calibration_id",
    "calibration_type__name",
    "value",
    "timestamp_text",
    "username",
    "tag_names",
    "created_at_text",
    "instrument_id",
    "in_tolerance",
)


def snapshot_parts(
    *,
    as_of: datetime,
    tag: str | None = None,
    calibration_type: str | None = None,
    username: str | None = None,
) -> list[QuerySet[Any]]:
    """What the records said at `as_of` (DESIGN §4.4a), as value tuples of SNAPSHOT_COLUMNS in
    one or two queries, each ordered by the timestamp as of `as_of`, then id, and no row in
    two: merged in that order (`snapshot_sort_key`), they are the snapshot.

    A row per calibration that existed at `as_of`: its fields as of then, the names of the
    tags it carried then joined by TAG_NAME_SEPARATOR (null when none; unsorted), and its
    `created_at`; both instants as UTC ISO text (`_UtcIsoText`). Filters apply to the values as
    of `as_of`; `tag` is a name (any case) carried at `as_of`, and an unknown one has no parts.

    Without a tag, one query reads every version once (`_versions_as_of`). With one, the
    calibrations not corrected since `as_of` stand as they were then, so they are read in the
    tag's index order and stream from the first row (`_tagged_unchanged_since`); only those
    corrected since (few, unless `as_of` is long ago) need their version then, and a sort.
    """
    if tag is None:
        return [_versions_as_of(as_of, calibration_type=calibration_type, username=username)]
    found = Tag.objects.named(tag).first()
    if found is None:
        return []
    # A calibration that existed at `as_of` changed since only by a correction (version 1 is
    # its creation, at or before then): the partial index of corrections finds them.
    changed_since = CalibrationVersion.objects.filter(version__gt=1, changed_at__gt=as_of)
    carried = TagAssignment.objects.as_of(as_of).filter(
        calibration_id=OuterRef("calibration_id"), tag=found
    )
    corrected = _versions_as_of(as_of, calibration_type=calibration_type, username=username).filter(
        Exists(carried),
        calibration_id__in=changed_since.values("calibration_id"),
    )
    unchanged = _tagged_unchanged_since(
        found,
        as_of,
        calibration_type=calibration_type,
        username=username,
        changed_since=changed_since,
    )
    return [unchanged, corrected]


def snapshot_sort_key(row: tuple[Any, ...]) -> tuple[str, Any]:
    """The snapshot's order on a row of `snapshot_parts`: the timestamp as of T, then id.

    The text without its `Z` sorts as the instant on both databases: PostgreSQL writes six
    digits of microseconds always, SQLite none for a whole second, a prefix of the others."""
    return row[3][:-1], row[0]


def _tag_names(as_of: datetime, calibration: str) -> Subquery:
    names = (
        TagAssignment.objects.as_of(as_of)
        .filter(calibration_id=OuterRef(calibration))
        .order_by()
        .values("calibration_id")
        .annotate(names=_JoinedNames("tag__name"))
        .values("names")
    )
    return Subquery(names, output_field=CharField())


_Rows = TypeVar("_Rows", bound=QuerySet[Any])


def _recorded_as(rows: _Rows, *, calibration_type: str | None, username: str | None) -> _Rows:
    """The snapshot's filters on the recorded fields, which a calibration and each of its
    versions both carry."""
    if calibration_type is not None:
        rows = rows.filter(calibration_type__name=calibration_type)
    if username is not None:
        rows = rows.filter(username=username)
    return rows


def _versions_as_of(
    as_of: datetime, *, calibration_type: str | None, username: str | None
) -> QuerySet[CalibrationVersion]:
    """Each calibration's latest version with `changed_at <= as_of`: no later version at or
    before it (an anti-join, so a full snapshot is one pass over the versions). Version 1's
    `changed_at` is the calibration's `created_at`, so "has a version at or before T" is
    "created at or before T"."""
    later = CalibrationVersion.objects.filter(
        calibration_id=OuterRef("calibration_id"),
        version__gt=OuterRef("version"),
        changed_at__lte=as_of,
    )
    rows = CalibrationVersion.objects.filter(changed_at__lte=as_of).filter(~Exists(later))
    rows = _recorded_as(rows, calibration_type=calibration_type, username=username)
    return (
        rows.annotate(
            tag_names=_tag_names(as_of, "calibration_id"),
            timestamp_text=_UtcIsoText("timestamp"),
            created_at_text=_UtcIsoText("calibration__created_at"),
        )
        .order_by("timestamp", "calibration_id")
        .values_list(*SNAPSHOT_COLUMNS)
    )


def _tagged_unchanged_since(
    tag: Tag,
    as_of: datetime,
    *,
    calibration_type: str | None,
    username: str | None,
    changed_since: QuerySet[CalibrationVersion],
) -> QuerySet[Calibration]:
    """The calibrations carrying `tag` at `as_of` with no version after it: their fields now
    are their fields then. Ordered by the period's copy of the timestamp (`calibrations_tagged`),
    which is the calibration's own, so PostgreSQL reads the rows in the index's order, with no
    sort before the first."""
    rows = calibrations_tagged(tag, as_of=as_of).filter(
        ~Exists(changed_since.filter(calibration_id=OuterRef("pk"))),
        created_at__lte=as_of,
    )
    rows = _recorded_as(rows, calibration_type=calibration_type, username=username)
    return (
        rows.annotate(
            calibration_id=F("pk"),
            tag_names=_tag_names(as_of, "pk"),
            timestamp_text=_UtcIsoText("timestamp"),
            created_at_text=_UtcIsoText("created_at"),
        )
        .order_by("tagged_timestamp", "pk")
        .values_list(*SNAPSHOT_COLUMNS)
    )


def split_tag_names(joined: str | None) -> list[str]:
    """The tag names of a snapshot row, sorted as everywhere (DESIGN §4.2)."""
    if not joined:
        return []
    return sorted(joined.split(TAG_NAME_SEPARATOR), key=tag_sort_key)


# ---------------------------------------------------------------------------------------------
# The file.

SNAPSHOT_FORMATS = {"jsonl": "application/x-ndjson", "csv": "text/csv"}
# §4.4a's columns, exactly: the snapshot's file is the contract's. The console's export adds
# the instrument's id last (what its import reads back), so a reader of the snapshot's columns
# by position reads the export's the same way.
CSV_HEADER = ["calibration_id", "calibration_type", "value", "timestamp", "username", "tags"]
EXPORT_HEADER = [*CSV_HEADER, "instrument"]
# Rows per database fetch and per block written to the client: big enough that neither the
# round trips nor the writes dominate, small enough that memory stays a few MB.
CHUNK = 2000

# (calibration_id, type name, value, timestamp, username, tag names sorted, created_at,
# instrument id or None, in_tolerance), the two instants as `utc_iso` text.
Row = tuple[Any, str, float, str, str, list[str], str, str | None, bool | None]

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
# The §4.2 representation, written directly: a dict per row through the JSON encoder was the
# biggest cost of a streamed snapshot after the database. `_encode` writes the strings (and the
# float, as `repr`, which is what the encoder writes); `test_snapshot` pins the output.
_LINE = (
    '{{"calibration_id":"{}","calibration_type":{},"value":{},"timestamp":"{}",'
    '"username":{},"tags":{},"created_at":"{}","instrument":{},"in_tolerance":{}}}\n'
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
            _encode(instrument),
            _encode(in_tolerance),
        )
        for pk, type_name, value, timestamp, username, tags, created_at, instrument, in_tolerance in rows
    )


def csv_block(rows: list[Row], header: bool = False, instrument: bool = False) -> str:
    """Rows as CSV: the snapshot's columns, and with `instrument` the export's last one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(EXPORT_HEADER if instrument else CSV_HEADER)
    if instrument:
        writer.writerows(
            (str(pk), type_name, repr(value), timestamp, username, "|".join(tags), held or "")
            for pk, type_name, value, timestamp, username, tags, _, held, _ in rows
        )
    else:
        writer.writerows(
            (str(pk), type_name, repr(value), timestamp, username, "|".join(tags))
            for pk, type_name, value, timestamp, username, tags, _, _, _ in rows
        )
    return out.getvalue()


def _blocks(rows: Iterable[Row], fmt: str) -> Iterator[str]:
    if fmt == "csv":
        yield csv_block([], header=True)
    block: list[Row] = []
    for row in rows:
        block.append(row)
        if len(block) >= CHUNK:
            yield _jsonl_block(block) if fmt == "jsonl" else csv_block(block)
            block = []
    if block:
        yield _jsonl_block(block) if fmt == "jsonl" else csv_block(block)


def _streamed(parts: list[QuerySet[Any]], convert: Any) -> Iterator[Row]:
    # Inside a transaction PostgreSQL's server-side cursor streams; in autocommit Django
    # declares it WITH HOLD, which makes PostgreSQL compute the whole result before the first
    # row. The transaction only reads and ends with the stream (or its abandonment). Two parts
    # are two cursors open at once, merged as they stream.
    if not parts:
        return
    using = parts[0].db
    postgresql = connections[using].vendor == "postgresql"
    # JIT off: PostgreSQL costs a cursor's plan for every row it could return, so a tag's
    # streamed part crosses `jit_above_cost` and compiled expressions for 13-29 ms before its
    # first row; it did not speed up the full snapshot either.
    with transaction.atomic(using=using), planner_settings(using, jit="off"):
        # Each cursor is opened here, on this thread's connection inside the transaction.
        streams = [_opened(part.iterator(chunk_size=CHUNK)) for part in parts]
        merged = streams[0] if len(streams) == 1 else heapq.merge(*streams, key=snapshot_sort_key)
        if not postgresql:  # SQLite runs in this process: no server's time to overlap
            yield from map(convert, merged)
            return
        ahead = ReadAhead(merged, connection=connections[using])
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
    """The rows of server-side cursors, fetched by a thread while this one writes the rows
    before them. A cursor computes rows only when fetched, so without it PostgreSQL idled
    while Python wrote a block, and Python while PostgreSQL computed the next: the full
    snapshot took the sum of the two.

    The thread fetches on the request's connection, which is safe: the cursors were opened on
    the request's thread in its transaction (so the rows are that transaction's), psycopg 3
    connections are thread-safe, and from the thread's start until `close()` has joined it
    only that thread uses the connection (the request's thread reads the queue alone).
    `close()` runs at the stream's end or when the client has gone, before the transaction
    ends. `tests/calibrations/test_snapshot_load.py` holds it to that under load."""

    def __init__(
        self, rows: Iterator[Any], blocks: int = 2, *, connection: BaseDatabaseWrapper | None = None
    ) -> None:
        self._rows = rows
        self._connection = connection
        self._queue: queue.Queue[list[Any] | BaseException] = queue.Queue(maxsize=blocks)
        self._stop = threading.Event()
        if connection is not None:
            # Django refuses a connection used by another thread unless told it is shared.
            connection.inc_thread_sharing()
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
        if self._connection is not None:
            self._connection.dec_thread_sharing()


def snapshot_response(
    parts: list[QuerySet[Any]], *, as_of: datetime, fmt: str
) -> StreamingHttpResponse:
    """The snapshot file for the parts of `snapshot_parts`, as an attachment."""

    def convert(raw: tuple[Any, ...]) -> Row:
        pk, type_name, value, timestamp, username, joined, created_at, instrument, judged = raw
        return (
            pk,
            type_name,
            value,
            snapshot_text_instant(timestamp),
            username,
            split_tag_names(joined),
            snapshot_text_instant(created_at),
            instrument,
            judged,
        )

    stamp = utc_iso(as_of)
    response = StreamingHttpResponse(
        _blocks(_streamed(parts, convert), fmt), content_type=SNAPSHOT_FORMATS[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="snapshot-{stamp}.{fmt}"'
    response["X-Snapshot-Timestamp"] = stamp
    return response
