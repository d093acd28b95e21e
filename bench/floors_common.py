"""What the two framework floors share: everything but the way they reach the database.

The Django floor (bench/floors.py) writes its routes' queries with the ORM; the SQL floor
(bench/floors_sql.py) sends the same statements as text. Around those queries both do the
same plain-Django work, written once here: reading the token through the credentials cache,
parsing what the bench sends, the services' own SQL for readings (both floors run it as
text, as the services do), DRF's cursor link of a first page, and the JSON answers, encoded
as DRF's renderer writes them. Nothing here builds an ORM query, so a share of the SQL
floor still counts none.

Floors handle the requests the bench sends (valid ones); they validate nothing else.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.backends.utils import CursorWrapper
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_duration
from django.views.decorators.csrf import csrf_exempt

from accounts.credentials import find_token
from calibrations import services
from calibrations.conf import due_soon
from calibrations.models import LAST_INSTANT, CalibrationType
from config.api.fields import utc_iso
from measurements.conf import stale_after
from measurements.models import Measurement, Summary
from measurements.selectors import (
    DEFAULT_ACTIVATION_ENERGY,
    Excursion,
    mkt_buckets,
    mkt_summary,
    time_weighted_buckets,
    time_weighted_summary,
)
from measurements.signals import readings_stored
from monitoring.notify import masked
from tagging.models import tag_sort_key

View = Callable[..., HttpResponse]
# A floor's own way of applying the sensor-account rule and a write's permission to the
# token's user: an answer refuses the request, None lets it through.
Refusal = Callable[[Any, str | None, bool], HttpResponse | None]


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """Compact JSON, non-ASCII as UTF-8, never NaN: what DRF's JSONRenderer writes."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return HttpResponse(body.encode(), status=status, content_type="application/json")


def not_found() -> HttpResponse:
    return json_response({"detail": "Not found."}, 404)


def authentication(refuse: Refusal) -> Callable[..., Callable[[View], View]]:
    """A floor's `authenticated(permission=None, sensor_allowed=False)` decorator: the token
    read through the credentials cache (`accounts.credentials.find_token`: one round trip to
    Redis, no SQL while the entry lives) as the route reads it, then `refuse`."""

    def authenticated(
        permission: str | None = None, sensor_allowed: bool = False
    ) -> Callable[[View], View]:
        def wrap(view: View) -> View:
            def floor(request: HttpRequest, **kwargs: Any) -> HttpResponse:
                scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
                if scheme != "Token" or not key:
                    return json_response({"detail": "Not authenticated."}, 401)
                token = find_token(key)
                if token is None or not token.user.is_active:
                    return json_response({"detail": "Invalid token."}, 401)
                user = token.user
                refusal = refuse(user, permission, sensor_allowed)
                if refusal is not None:
                    return refusal
                return view(request, user, **kwargs)

            return csrf_exempt(floor)

        return wrap

    return authenticated


def dispatch(create: View, listing: View) -> View:
    """`/api/calibrations` answers a POST (create) and a GET (list)."""

    @csrf_exempt
    def calibration_dispatch(request: HttpRequest) -> HttpResponse:
        view = create if request.method == "POST" else listing
        return view(request)

    return calibration_dispatch


def instant_param(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name)
    return datetime.fromisoformat(raw).astimezone(UTC) if raw else None


def as_of_param(request: HttpRequest) -> datetime:
    return instant_param(request, "timestamp") or timezone.now()


# --- Calibrations.


def tag_names_by_calibration(
    ids: Iterable[Any], pairs: Iterable[tuple[Any, str]]
) -> dict[Any, list[str]]:
    """Each calibration's tag names, in the route's order, from (calibration id, name) pairs."""
    names: dict[Any, list[str]] = {pk: [] for pk in ids}
    for calibration_id, name in pairs:
        names[calibration_id].append(name)
    return {pk: sorted(found, key=tag_sort_key) for pk, found in names.items()}


def calibration_json(
    pk: Any,
    type_name: str,
    value: float,
    timestamp: datetime,
    username: str,
    created_at: datetime,
    tags: list[str],
    instrument: str | None = None,
    in_tolerance: bool | None = None,
) -> dict[str, Any]:
    return {
        "calibration_id": str(pk),
        "calibration_type": type_name,
        "value": value,
        "timestamp": utc_iso(timestamp),
        "username": username,
        "tags": tags,
        "created_at": utc_iso(created_at),
        "instrument": instrument,
        "in_tolerance": in_tolerance,
    }


def calibration_created(
    request: HttpRequest, user: Any, body: dict[str, Any], kind: CalibrationType
) -> HttpResponse:
    """The create's write and answer, once the floor has found the type.

    The service writes the calibration and its version 1 in one statement of its own SQL:
    both floors call it rather than copy that text (it has no DRF in it, and no ORM query to
    compile)."""
    created = services.calibration_create(
        calibration_type=kind,
        value=float(body["value"]),
        username=body.get("username") or user.username,
        timestamp=timezone.now(),
        created_by=user,
    )
    answer = calibration_json(
        created.pk,
        kind.name,
        created.value,
        created.timestamp,
        created.username,
        created.created_at,
        [],
        created.instrument_id,
        created.in_tolerance,
    )
    response = json_response(answer, 201)
    response["Location"] = request.build_absolute_uri(f"/api/calibrations/{created.pk}")
    return response


def page_size(request: HttpRequest) -> int:
    return int(request.GET.get("page_size") or 50)


def first_page(
    request: HttpRequest,
    prefix: str,
    rows: list[Any],
    size: int,
    results: list[dict[str, Any]],
    position: Callable[[Any], str],
) -> HttpResponse:
    """A first page's answer with DRF's CursorPagination `next` link (`rows` holds size + 1)."""
    next_link = None
    if len(rows) > size:
        compare, offset = position(rows[size]), 0
        for row in reversed(rows[:size]):
            if position(row) != compare:
                break
            offset += 1
        tokens = {"o": str(offset)} if offset else {}
        if offset < size:
            tokens["p"] = position(rows[size - 1 - offset])
        # else no row of the page has a position of its own (all share the next one's): DRF's
        # cursor is then the page size as offset, and no position.
        cursor = base64.b64encode(urlencode(tokens).encode("ascii")).decode("ascii")
        query = urlencode(sorted({**request.GET.dict(), "cursor": cursor}.items()))
        # The route's own path: the floor answers as if it were the route.
        next_link = request.build_absolute_uri(request.path.removeprefix(prefix) + "?" + query)
    return json_response({"next": next_link, "previous": None, "results": results})


# --- Readings.

# The services write readings with SQL of their own (INSERT … ON CONFLICT, a COPY into a
# staging table): so do both floors, with the same text.
READING_INSERT_SQL = """
            INSERT INTO "measurements_measurement" (room_id, "timestamp", sensor, value) VALUES (%s, %s, %s, %s)
            ON CONFLICT (room_id, "timestamp", sensor) DO NOTHING RETURNING id
            """
STAGE_SQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS measurements_ingest_stage "
    "(ts timestamptz NOT NULL, sensor text NOT NULL, value float8 NOT NULL)"
)
STAGE_COPY_SQL = "COPY measurements_ingest_stage (ts, sensor, value) FROM STDIN (FORMAT BINARY)"
STAGED_INSERT_SQL = """
            WITH staged AS (DELETE FROM measurements_ingest_stage RETURNING ts, sensor, value)
            INSERT INTO "measurements_measurement" (room_id, "timestamp", sensor, value)
            SELECT %s, ts, sensor, value FROM staged
            ON CONFLICT (room_id, "timestamp", sensor) DO NOTHING
            """
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SHORTHAND = re.compile(r"(\d+)([smhdw])")
SHORTHAND_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

Readings = dict[tuple[datetime, str], float]


def reading_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def duration(text: str) -> timedelta:
    shorthand = SHORTHAND.fullmatch(text)
    if shorthand:
        return timedelta(**{SHORTHAND_UNITS[shorthand[2]]: int(shorthand[1])})
    parsed = parse_duration(text)
    assert parsed is not None
    return parsed


def one_reading(data: dict[str, Any]) -> tuple[datetime, str, float]:
    """One reading, in °C (the bench posts °C), timestamped now unless it says when."""
    instant = reading_time(data["timestamp"]) if "timestamp" in data else timezone.now()
    return instant, data.get("sensor", ""), float(data["value"])


def insert_reading(
    cursor: CursorWrapper, room_id: str, instant: datetime, sensor: str, value: float
) -> bool:
    """The service's INSERT … ON CONFLICT, in the caller's transaction: whether it stored it."""
    cursor.execute(READING_INSERT_SQL, [room_id, instant, sensor, value])
    return cursor.fetchone() is not None


def announce(room_id: str, readings: list[tuple[datetime, float]] | None = None) -> None:
    """What the ingest services do once new readings are stored, in their transaction: send
    `readings_stored` (monitoring judges them for alarms, with its own SQL text), with the
    (timestamp, °C) pairs of a single reading, none for an array's."""
    if readings is None:
        readings_stored.send(Measurement, room_id=room_id)
    else:
        readings_stored.send(Measurement, room_id=room_id, readings=readings)


def reading_answer(
    room_id: str, instant: datetime, sensor: str, value: float, created: bool
) -> HttpResponse:
    body = {"room_id": room_id, "timestamp": utc_iso(instant), "value": value, "unit": "C"}
    return json_response({**body, "sensor": sensor}, 201 if created else 200)


def many_readings(data: list[dict[str, Any]]) -> Readings:
    """An array's readings, the first of each (timestamp, sensor) kept, as the service does."""
    rows: Readings = {}
    for item in data:
        key = (reading_time(item["timestamp"]), item.get("sensor", ""))
        rows.setdefault(key, float(item["value"]))
    return rows


def insert_staged(cursor: CursorWrapper, room_id: str, rows: Readings) -> int:
    """The service's COPY into a staging table and its INSERT … ON CONFLICT, in the caller's
    transaction: how many readings it stored."""
    cursor.execute(STAGE_SQL)
    with cursor.cursor.copy(STAGE_COPY_SQL) as copy:
        copy.set_types(["timestamptz", "text", "float8"])
        for (instant, sensor), value in rows.items():
            copy.write_row((instant, sensor, value))
    cursor.execute(STAGED_INSERT_SQL, [room_id])
    return cursor.rowcount


def readings_answer(room_id: str, data: list[dict[str, Any]], created: int) -> HttpResponse:
    body = {"room_id": room_id, "created": created, "duplicates": len(data) - created}
    return json_response(body, 201)


def method_param(request: HttpRequest) -> tuple[str, float]:
    """How the average and series are taken (`mean`, `time_weighted`, `mkt`), and MKT's
    activation energy (kJ/mol)."""
    energy = request.GET.get("activation_energy")
    method = request.GET.get("method", "mean")
    return method, float(energy) if energy else DEFAULT_ACTIVATION_ENERGY


def weighted_summary(
    method: str, room_id: str, start: datetime, end: datetime, energy: float
) -> Summary:
    """The time-weighted or MKT summary by the selectors' own SQL text, as the route: no ORM
    query in them (on PostgreSQL) for either floor to write its own way."""
    if method == "mkt":
        return mkt_summary(room_id, start, end, energy)
    return time_weighted_summary(room_id, start, end)


def weighted_buckets(
    method: str, room_id: str, start: datetime, end: datetime, width: timedelta, energy: float
) -> list[dict[str, Any]]:
    """The series' time-weighted or MKT buckets by the selectors' own SQL text, as JSON."""
    if method == "mkt":
        buckets = mkt_buckets(room_id, start, end, width, energy)
    else:
        buckets = time_weighted_buckets(room_id, start, end, width)
    return [bucket_json(b.start, b.average, b.min, b.max, b.count) for b in buckets]


def average_answer(
    room_id: str,
    window_text: str,
    start: datetime,
    end: datetime,
    stats: Summary | dict[str, Any],
    method: str = "mean",
    energy: float = DEFAULT_ACTIVATION_ENERGY,
) -> HttpResponse:
    """`stats`: average, min, max and count (°C); MKT's answer names its activation energy."""
    body = {"room_id": room_id, "duration": window_text, "from": utc_iso(start), "to": utc_iso(end)}
    figures = {key: float_or_none(stats[key]) for key in ("average", "min", "max")}  # type: ignore[literal-required]
    answer = {**body, "unit": "C", **figures, "count": int(stats["count"]), "method": method}
    if method == "mkt":
        answer["activation_energy"] = energy
    return json_response(answer)


def window_param(request: HttpRequest) -> tuple[datetime, datetime]:
    """The `from`/`to` window of the series and excursions: the last 7 days unless it says."""
    end = instant_param(request, "to") or timezone.now()
    start = instant_param(request, "from") or end - timedelta(days=7)
    return start, end


def series_window(request: HttpRequest) -> tuple[timedelta, datetime, datetime]:
    """The series' bucket width and window: the last 7 days in hours unless it says."""
    width = duration(request.GET.get("bucket", "1h"))
    return width, *window_param(request)


def float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def excursions_answer(
    room_id: str,
    start: datetime,
    end: datetime,
    low: float | None,
    high: float | None,
    found: list[Excursion],
) -> HttpResponse:
    """The excursions of `[start, end]` (°C) and the range in force at `end`."""
    excursions = [
        {
            "kind": excursion.kind,
            "start": utc_iso(excursion.start),
            "end": None if excursion.end is None else utc_iso(excursion.end),
            "peak": float(excursion.peak),
            "readings": int(excursion.readings),
            "started_before": bool(excursion.started_before),
        }
        for excursion in found
    ]
    body = {"room_id": room_id, "from": utc_iso(start), "to": utc_iso(end), "unit": "C"}
    range_at_end = {"min": float_or_none(low), "max": float_or_none(high)}
    return json_response({**body, **range_at_end, "excursions": excursions})


def bucket_json(
    start: datetime, average: float, low: float, high: float, count: int
) -> dict[str, Any]:
    figures = {"average": float(average), "min": float(low), "max": float(high)}
    return {"start": utc_iso(start), **figures, "count": int(count)}


# --- Rooms.


def stale_before() -> datetime:
    """A room whose newest reading is older is `stale` (`ROOM_STALE_AFTER`, as the route)."""
    return timezone.now() - stale_after()


def room_json(
    room_id: str,
    name: str,
    created_at: datetime,
    min_c: float | None,
    max_c: float | None,
    status: str,
    last_timestamp: datetime | None,
    last_value: float | None,
    open_alarms: int,
) -> dict[str, Any]:
    """A room of the rooms list, as monitoring serves it (with its open alarms), in °C."""
    last_reading = None
    if last_timestamp is not None:
        value = float_or_none(last_value)
        last_reading = {"timestamp": utc_iso(last_timestamp), "value": value, "unit": "C"}
    return {
        "room_id": room_id,
        "name": name,
        "created_at": utc_iso(created_at),
        "min_c": float_or_none(min_c),
        "max_c": float_or_none(max_c),
        "status": status,
        "last_reading": last_reading,
        "open_alarms": open_alarms,
    }


def range_version_json(
    version: int,
    min_c: float | None,
    max_c: float | None,
    changed_at: datetime,
    changed_by: str | None,
    reason: str,
) -> dict[str, Any]:
    """One version of a room's range history (°C)."""
    return {
        "version": version,
        "min_c": float_or_none(min_c),
        "max_c": float_or_none(max_c),
        "changed_at": utc_iso(changed_at),
        "changed_by": changed_by,
        "reason": reason,
    }


# --- Instruments.


def due_soon_until(at: datetime) -> datetime:
    """Where `due_soon` ends for the status at `at` (as `Instrument.objects.with_status`)."""
    soon = due_soon()
    return at + soon if at < LAST_INSTANT - soon else LAST_INSTANT


def instrument_json(
    instrument_id: str,
    name: str,
    kind: str,
    serial_number: str,
    interval_days: int | None,
    retired_at: datetime | None,
    created_at: datetime,
    last_id: Any,
    last_timestamp: datetime | None,
    last_in_tolerance: bool | None,
    due_at: datetime | None,
    status: str,
) -> dict[str, Any]:
    """An instrument of the register, with its newest calibration, due date and status."""
    last = None
    if last_id is not None:
        last = {
            "calibration_id": str(last_id),
            "timestamp": utc_iso(last_timestamp),  # type: ignore[arg-type]
            "in_tolerance": last_in_tolerance,
        }
    return {
        "instrument_id": instrument_id,
        "name": name,
        "kind": kind,
        "serial_number": serial_number,
        "calibration_interval_days": interval_days,
        "retired_at": None if retired_at is None else utc_iso(retired_at),
        "created_at": utc_iso(created_at),
        "last_calibration": last,
        "due_at": None if due_at is None else utc_iso(due_at),
        "status": status,
    }


# --- Alarms.


def notification_json(
    target_name: str,
    target_url: str,
    event: str,
    state: str,
    attempts: int,
    sent_at: datetime | None,
    last_error: str,
) -> dict[str, Any]:
    """One notification of an alarm, its error with the target's secrets masked."""
    return {
        "target": target_name,
        "event": event,
        "state": state,
        "attempts": attempts,
        "sent_at": None if sent_at is None else utc_iso(sent_at),
        "last_error": masked(target_url, last_error),
    }


def alarm_json(
    pk: int,
    room_id: str,
    kind: str,
    opened_at: datetime,
    raised_at: datetime,
    cleared_at: datetime | None,
    peak: float | None,
    readings: int,
    acknowledged_at: datetime | None,
    acknowledged_by: str | None,
    comment: str,
    notifications: list[dict[str, Any]],
) -> dict[str, Any]:
    """An alarm as the alarms list shows it (monitoring.delivery.alarm_json's fields)."""
    return {
        "id": pk,
        "room_id": room_id,
        "kind": kind,
        "opened_at": utc_iso(opened_at),
        "raised_at": utc_iso(raised_at),
        "cleared_at": None if cleared_at is None else utc_iso(cleared_at),
        "peak": peak,
        "readings": readings,
        "acknowledged_at": None if acknowledged_at is None else utc_iso(acknowledged_at),
        "acknowledged_by": acknowledged_by or None,
        "comment": comment,
        "notifications": notifications,
    }
