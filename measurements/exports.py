"""A room's readings as a CSV file (DESIGN §5), streamed: read with a server-side cursor in
chunks and written out block by block, so memory stays flat however many readings."""

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from config.api.fields import utc_iso

from .archiving import FIELDS

# Rows per database fetch and per block written: big enough that neither round trips nor
# writes dominate, small enough that memory stays a few MB.
CHUNK = 5000


def readings_csv_rows(readings: QuerySet[Any]) -> Iterator[str]:
    """The CSV text of `readings` (in their order), header first, block by block: the columns
    of `archive_measurements`' CSV files (`room_id,timestamp,sensor,value`, the value in °C
    as the exact double, the timestamp ISO 8601 in UTC with its microseconds)."""
    rows = readings.values_list("room_id", "timestamp", "sensor", "value")
    yield _block([FIELDS])
    using = rows.db
    # Inside a transaction PostgreSQL's server-side cursor streams; in autocommit Django
    # declares it WITH HOLD, which makes PostgreSQL compute every row before the first. The
    # transaction only reads and ends with the stream (or when the client goes away).
    with transaction.atomic(using=using):
        block: list[tuple[Any, ...]] = []
        for room_id, timestamp, sensor, value in rows.iterator(chunk_size=CHUNK):
            block.append((room_id, utc_iso(timestamp), sensor, repr(value)))
            if len(block) >= CHUNK:
                yield _block(block)
                block = []
        if block:
            yield _block(block)


def _block(rows: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def readings_csv_response(
    readings: QuerySet[Any], *, name: str, at: datetime
) -> StreamingHttpResponse:
    """`readings` as an attachment `<name>-<at, UTC>.csv`, streamed."""
    response = StreamingHttpResponse(readings_csv_rows(readings), content_type="text/csv")
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response
