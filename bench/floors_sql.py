"""The SQL floor: the framework floors of bench/floors.py without the ORM.

Each view runs its route's SQL statements as text through `connection.cursor()` (same text,
same parameters, same transaction depth as the route) and answers the same JSON: Django's
request handling, middleware and database connection, and nothing that builds or compiles a
query. The share of this floor says what all our Python costs per request, the ORM's query
compilation included; the share of the Django floor (bench/floors.py) what our DRF layer does.

Mounted under `/floor-sql/` by `bench/urls.py`; `tests/bench/test_floors.py` holds it to its
route's statements and JSON as it does the Django floor.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from accounts.credentials import ATTRIBUTE, Credentials, find_token
from accounts.permissions import SENSOR_PERMISSION
from bench.floors import (
    EPOCH,
    STAGE_COPY_SQL,
    STAGE_SQL,
    STAGED_INSERT_SQL,
    duration,
    instant_param,
    json_response,
    reading_time,
)
from calibrations import services
from calibrations.models import CalibrationType
from config.api.fields import utc_iso
from tagging.models import tag_sort_key

PREFIX = "/floor-sql"


def authenticated(
    permission: str | None = None, sensor_allowed: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The token and its user's permissions from the credentials cache, then the sensor rule
    and, for a write, the permission."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def floor(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme != "Token" or not key:
                return json_response({"detail": "Not authenticated."}, 401)
            token = find_token(key)
            if token is None or not token.user.is_active:
                return json_response({"detail": "Invalid token."}, 401)
            user = token.user
            if not user.is_superuser:
                found: Credentials = getattr(user, ATTRIBUTE)
                held = found.user_permissions | found.group_permissions
                if held == {SENSOR_PERMISSION} and not sensor_allowed:
                    return json_response({"detail": "Sensor account."}, 403)
                if permission and permission not in held:
                    return json_response({"detail": "Permission denied."}, 403)
            return view(request, user, **kwargs)

        return csrf_exempt(floor)

    return wrap


def absolute(request: HttpRequest, path: str, query: dict[str, str]) -> str:
    """A link as the route writes it: its own path (no floor prefix), query sorted."""
    return request.build_absolute_uri(path + "?" + urlencode(sorted(query.items())))


def first_page_links(
    request: HttpRequest, rows: list[Any], page_size: int, position: Callable[[Any], str]
) -> str | None:
    """DRF's CursorPagination `next` link of a first page (`rows` holds page_size + 1)."""
    if len(rows) <= page_size:
        return None
    compare, offset = position(rows[page_size]), 0
    for row in reversed(rows[:page_size]):
        if position(row) != compare:
            break
        offset += 1
    tokens = {"o": str(offset)} if offset else {}
    tokens["p"] = position(rows[page_size - 1 - offset])
    cursor = base64.b64encode(urlencode(tokens).encode("ascii")).decode("ascii")
    query = {**request.GET.dict(), "cursor": cursor}
    return absolute(request, request.path.removeprefix(PREFIX), query)


# --- Calibrations.

CALIBRATION_COLUMNS = (
    '"calibrations_calibration"."id", "calibrations_calibration"."calibration_type_id", '
    '"calibrations_calibration"."value", "calibrations_calibration"."timestamp", '
    '"calibrations_calibration"."username", "calibrations_calibration"."created_at", '
    '"calibrations_calibration"."created_by_id"'
)
TYPE_COLUMNS = (
    '"calibrations_calibrationtype"."id", "calibrations_calibrationtype"."name", '
    '"calibrations_calibrationtype"."unit", "calibrations_calibrationtype"."description"'
)
TYPE_JOIN = (
    'INNER JOIN "calibrations_calibrationtype" ON ("calibrations_calibration".'
    '"calibration_type_id" = "calibrations_calibrationtype"."id")'
)
TYPE_BY_NAME_SQL = (
    f'SELECT {TYPE_COLUMNS} FROM "calibrations_calibrationtype" WHERE '
    '"calibrations_calibrationtype"."name" = %s LIMIT 21'
)
CALIBRATION_LIST_SQL = (
    f'SELECT {CALIBRATION_COLUMNS}, {TYPE_COLUMNS} FROM "calibrations_calibration" {TYPE_JOIN} '
    'WHERE ("calibrations_calibration"."username" = %s AND '
    '"calibrations_calibration"."calibration_type_id" = (SELECT U0."id" AS "pk" FROM '
    '"calibrations_calibrationtype" U0 WHERE U0."name" = %s ORDER BY U0."name" ASC LIMIT 1)) '
    'ORDER BY "calibrations_calibration"."timestamp" DESC, "calibrations_calibration"."id" DESC '
    "LIMIT {}"
)
CALIBRATION_DETAIL_SQL = (
    f'SELECT {CALIBRATION_COLUMNS}, {TYPE_COLUMNS} FROM "calibrations_calibration" {TYPE_JOIN} '
    'WHERE "calibrations_calibration"."id" = %s LIMIT 21'
)
CALIBRATION_BY_ID_SQL = (
    f'SELECT {CALIBRATION_COLUMNS} FROM "calibrations_calibration" '
    'WHERE "calibrations_calibration"."id" = %s LIMIT 21'
)
AS_OF = (
    '"tagging_tagassignment"."added_at" <= %s AND ("tagging_tagassignment"."removed_at" '
    'IS NULL OR "tagging_tagassignment"."removed_at" > %s)'
)
TAG_JOIN = 'INNER JOIN "tagging_tag" ON ("tagging_tagassignment"."tag_id" = "tagging_tag"."id")'
TAG_NAMES_OF_SQL = (
    'SELECT "tagging_tagassignment"."calibration_id" AS "calibration_id", "tagging_tag"."name" '
    f'AS "tag__name" FROM "tagging_tagassignment" {TAG_JOIN} WHERE ({AS_OF} AND '
    '"tagging_tagassignment"."calibration_id" IN ({}))'
)
TAG_BY_NAME_SQL = (
    'SELECT "tagging_tag"."id", "tagging_tag"."name", "tagging_tag"."created_at" FROM '
    '"tagging_tag" WHERE UPPER("tagging_tag"."name"::text) = UPPER(%s) '
    'ORDER BY "tagging_tag"."name" ASC LIMIT 1'
)
TAGGED_CALIBRATIONS_SQL = (
    f"SELECT {CALIBRATION_COLUMNS}, "
    '"tagging_tagassignment"."calibration_timestamp" AS "tagged_timestamp", '
    f'{TYPE_COLUMNS} FROM "calibrations_calibration" INNER JOIN "tagging_tagassignment" ON '
    '("calibrations_calibration"."id" = "tagging_tagassignment"."calibration_id") '
    f'{TYPE_JOIN} WHERE ("tagging_tagassignment"."tag_id" = %s AND {AS_OF}) '
    'ORDER BY 8 DESC, "calibrations_calibration"."id" DESC LIMIT {}'
)


def tag_names(ids: list[uuid.UUID], as_of: datetime) -> dict[uuid.UUID, list[str]]:
    names: dict[uuid.UUID, list[str]] = {pk: [] for pk in ids}
    if ids:
        sql = TAG_NAMES_OF_SQL.format(", ".join(["%s"] * len(ids)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [as_of, as_of, *ids])
            for calibration_id, name in cursor.fetchall():
                names[calibration_id].append(name)
    return {pk: sorted(found, key=tag_sort_key) for pk, found in names.items()}


def calibration_json(row: Sequence[Any], type_name: str, tags: list[str]) -> dict[str, Any]:
    return {
        "calibration_id": str(row[0]),
        "calibration_type": type_name,
        "value": row[2],
        "timestamp": utc_iso(row[3]),
        "username": row[4],
        "tags": tags,
        "created_at": utc_iso(row[5]),
    }


def as_of_param(request: HttpRequest) -> datetime:
    return instant_param(request, "timestamp") or timezone.now()


@authenticated("calibrations.add_calibration")
def calibration_create(request: HttpRequest, user: User) -> HttpResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(TYPE_BY_NAME_SQL, [body["calibration_type"]])
        type_row = cursor.fetchone()
        if type_row is None:
            return json_response({"calibration_type": ["Unknown calibration type."]}, 400)
    # The service writes the calibration and its version 1 in one statement of its own SQL:
    # the floor calls it rather than copy that text (it has no ORM query to compile).
    created = services.calibration_create(
        calibration_type=CalibrationType(id=type_row[0], name=type_row[1]),
        value=float(body["value"]),
        username=body.get("username") or user.username,
        timestamp=timezone.now(),
        created_by=user,
    )
    row: tuple[Any, ...] = (created.pk, type_row[0], created.value, created.timestamp)
    row += (created.username, created.created_at)
    response = json_response(calibration_json(row, type_row[1], []), 201)
    response["Location"] = request.build_absolute_uri(f"/api/calibrations/{created.pk}")
    return response


def calibrations_page(
    request: HttpRequest, sql: str, params: list[Any], as_of: datetime, columns: tuple[int, int]
) -> HttpResponse:
    """A first page of calibrations; `columns`: where the rows hold the cursor's ordering
    value and the type's name."""
    size = int(request.GET.get("page_size") or 50)
    # Django writes a slice's LIMIT into the text, not as a parameter.
    with connection.cursor() as cursor:
        cursor.execute(sql.format(size + 1), params)
        rows = cursor.fetchall()
    names = tag_names([row[0] for row in rows[:size]], as_of)
    ordering, type_name = columns
    results = [calibration_json(row, row[type_name], names[row[0]]) for row in rows[:size]]
    next_link = first_page_links(request, rows, size, lambda row: str(row[ordering]))
    return json_response({"next": next_link, "previous": None, "results": results})


@authenticated()
def calibration_list(request: HttpRequest, user: User) -> HttpResponse:
    params = [request.GET["username"], request.GET["calibration_type"]]
    # Rows: the calibration's 7 columns (timestamp: 3), then the type's (7: id, 8: name).
    return calibrations_page(request, CALIBRATION_LIST_SQL, params, timezone.now(), (3, 8))


@authenticated()
def calibration_detail(request: HttpRequest, user: User, calibration_id: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(CALIBRATION_DETAIL_SQL, [uuid.UUID(calibration_id)])
        row = cursor.fetchone()
    if row is None:
        return json_response({"detail": "Not found."}, 404)
    names = tag_names([row[0]], timezone.now())
    return json_response(calibration_json(row, row[8], names[row[0]]))


@authenticated()
def calibration_tags(request: HttpRequest, user: User, calibration_id: str) -> HttpResponse:
    instant = as_of_param(request)
    with connection.cursor() as cursor:
        cursor.execute(CALIBRATION_BY_ID_SQL, [uuid.UUID(calibration_id)])
        row = cursor.fetchone()
        if row is None:
            return json_response({"detail": "Not found."}, 404)
    return json_response(tag_names([row[0]], instant)[row[0]])


@authenticated()
def tag_calibrations(request: HttpRequest, user: User, tag: str) -> HttpResponse:
    instant = as_of_param(request)
    with connection.cursor() as cursor:
        cursor.execute(TAG_BY_NAME_SQL, [tag])
        tag_row = cursor.fetchone()
    if tag_row is None:
        return json_response({"detail": "Not found."}, 404)
    params = [tag_row[0], instant, instant]
    # Rows: the calibration's 7 columns, tagged_timestamp (7), then the type's (8: id, 9: name).
    return calibrations_page(request, TAGGED_CALIBRATIONS_SQL, params, instant, (7, 9))


# --- Readings.

ROOM_SQL = (
    'SELECT "measurements_room"."room_id", "measurements_room"."name", '
    '"measurements_room"."created_at", "measurements_room"."min_c", "measurements_room"."max_c" '
    'FROM "measurements_room" WHERE "measurements_room"."room_id" = %s LIMIT 21'
)
ROOM_INSERT_SQL = (
    'INSERT INTO "measurements_room" ("room_id", "name", "created_at", "min_c", "max_c") '
    "VALUES (%s, %s, %s, %s, %s)"
)
READING_INSERT_SQL = """
            INSERT INTO "measurements_measurement" (room_id, "timestamp", sensor, value) VALUES (%s, %s, %s, %s)
            ON CONFLICT (room_id, "timestamp", sensor) DO NOTHING RETURNING id
            """
AVERAGE_SQL = (
    'SELECT AVG("measurements_measurement"."value") AS "average", '
    'MIN("measurements_measurement"."value") AS "min", '
    'MAX("measurements_measurement"."value") AS "max", COUNT(*) AS "count" '
    'FROM "measurements_measurement" WHERE ("measurements_measurement"."room_id" = %s AND '
    '"measurements_measurement"."timestamp" >= %s AND '
    '"measurements_measurement"."timestamp" <= %s)'
)
SERIES_SQL = (
    'SELECT DATE_BIN(%s, "measurements_measurement"."timestamp", %s) AS "start", '
    'AVG("measurements_measurement"."value") AS "average", '
    'MIN("measurements_measurement"."value") AS "min", '
    'MAX("measurements_measurement"."value") AS "max", COUNT(*) AS "count" '
    'FROM "measurements_measurement" WHERE ("measurements_measurement"."room_id" = %s AND '
    '"measurements_measurement"."timestamp" >= %s AND '
    '"measurements_measurement"."timestamp" <= %s) GROUP BY 1 ORDER BY 1 ASC'
)


def room_get_or_create(cursor: Any, room_id: str) -> None:
    """What `Room.objects.get_or_create(room_id=…)` runs inside the caller's transaction."""
    cursor.execute(ROOM_SQL, [room_id])
    if cursor.fetchone() is None:
        with transaction.atomic():
            cursor.execute(ROOM_INSERT_SQL, [room_id, "", timezone.now(), None, None])


def room_exists(room_id: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(ROOM_SQL, [room_id])
        return cursor.fetchone() is not None


@authenticated("measurements.add_measurement", sensor_allowed=True)
def readings_post(request: HttpRequest, user: User, room_id: str) -> HttpResponse:
    data = json.loads(request.body)
    if isinstance(data, list):
        return readings_post_many(room_id, data)
    # One reading, in °C (the bench posts °C), timestamped now unless it says when.
    instant = reading_time(data["timestamp"]) if "timestamp" in data else timezone.now()
    sensor, value = data.get("sensor", ""), float(data["value"])
    with transaction.atomic(), connection.cursor() as cursor:
        room_get_or_create(cursor, room_id)
        cursor.execute(READING_INSERT_SQL, [room_id, instant, sensor, value])
        created = cursor.fetchone() is not None
    body = {"room_id": room_id, "timestamp": utc_iso(instant), "value": value, "unit": "C"}
    return json_response({**body, "sensor": sensor}, 201 if created else 200)


def readings_post_many(room_id: str, data: list[dict[str, Any]]) -> HttpResponse:
    rows: dict[tuple[datetime, str], float] = {}
    for item in data:
        key = (reading_time(item["timestamp"]), item.get("sensor", ""))
        rows.setdefault(key, float(item["value"]))
    with transaction.atomic(), connection.cursor() as cursor:
        room_get_or_create(cursor, room_id)
        cursor.execute(STAGE_SQL)
        with cursor.cursor.copy(STAGE_COPY_SQL) as copy:
            copy.set_types(["timestamptz", "text", "float8"])
            for (instant, sensor), value in rows.items():
                copy.write_row((instant, sensor, value))
        cursor.execute(STAGED_INSERT_SQL, [room_id])
        created = cursor.rowcount
    body = {"room_id": room_id, "created": created, "duplicates": len(data) - created}
    return json_response(body, 201)


@authenticated()
def room_average(request: HttpRequest, user: User, room_id: str, window_text: str) -> HttpResponse:
    if not room_exists(room_id):
        return json_response({"detail": "Not found."}, 404)
    end = timezone.now()
    start = end - duration(window_text)
    with connection.cursor() as cursor:
        cursor.execute(AVERAGE_SQL, [room_id, start, end])
        average, low, high, count = cursor.fetchone()
    body = {"room_id": room_id, "duration": window_text, "from": utc_iso(start), "to": utc_iso(end)}
    stats = {"unit": "C", "average": average, "min": low, "max": high, "count": count}
    return json_response({**body, **stats, "method": "mean"})


@authenticated()
def room_series(request: HttpRequest, user: User, room_id: str) -> HttpResponse:
    width = duration(request.GET.get("bucket", "1h"))
    end = instant_param(request, "to") or timezone.now()
    start = instant_param(request, "from") or end - timedelta(days=7)
    if not room_exists(room_id):
        return json_response({"detail": "Not found."}, 404)
    with connection.cursor() as cursor:
        params: list[Any] = [width, EPOCH, room_id, start, end]
        cursor.execute(SERIES_SQL, params)
        buckets = [
            {"start": utc_iso(at), "average": avg, "min": low, "max": high, "count": count}
            for at, avg, low, high, count in cursor.fetchall()
        ]
    return json_response(buckets)


@csrf_exempt
def calibration_dispatch(request: HttpRequest) -> HttpResponse:
    """`/api/calibrations` answers a POST (create) and a GET (list)."""
    view = calibration_create if request.method == "POST" else calibration_list
    return view(request)
