"""The SQL floor: the framework floors of bench/floors.py without the ORM.

Each view runs its route's SQL statements as text through `connection.cursor()` (same text,
same parameters, same transaction depth as the route) and answers the same JSON: Django's
request handling, middleware and database connection, and nothing that builds or compiles a
query. The share of this floor says what all our Python costs per request, the ORM's query
compilation included; the share of the Django floor (bench/floors.py) what our DRF layer does.

Mounted under `/floor-sql/` by `bench/urls.py`; `tests/bench/test_floors.py` holds it to its
route's statements and JSON as it does the Django floor. What the two floors share is in
bench/floors_common.py; what is here is the statements' text and the permission checks on
the cached permission sets.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.credentials import ATTRIBUTE, Credentials
from accounts.permissions import SENSOR_PERMISSION
from bench import floors_common as common
from calibrations.models import STANDING_FIELDS, CalibrationType, InstrumentStatus
from measurements.models import Room, RoomStatus
from measurements.selectors import excursions
from tagging.models import tag_key

PREFIX = "/floor-sql"


def refuse(user: User, permission: str | None, sensor_allowed: bool) -> HttpResponse | None:
    """The sensor rule and, for a write, the permission, on the permission sets the
    credentials cache holds, compared directly."""
    if not user.is_superuser:
        found: Credentials = getattr(user, ATTRIBUTE)
        held = found.user_permissions | found.group_permissions
        if held == {SENSOR_PERMISSION} and not sensor_allowed:
            return common.json_response({"detail": "Sensor account."}, 403)
        if permission and permission not in held:
            return common.json_response({"detail": "Permission denied."}, 403)
    return None


authenticated = common.authentication(refuse)


# --- Calibrations.

CALIBRATION_COLUMNS = (
    '"calibrations_calibration"."id", "calibrations_calibration"."calibration_type_id", '
    '"calibrations_calibration"."value", "calibrations_calibration"."timestamp", '
    '"calibrations_calibration"."username", "calibrations_calibration"."created_at", '
    '"calibrations_calibration"."created_by_id", "calibrations_calibration"."instrument_id", '
    '"calibrations_calibration"."in_tolerance"'
)
TYPE_COLUMNS = (
    '"calibrations_calibrationtype"."id", "calibrations_calibrationtype"."name", '
    '"calibrations_calibrationtype"."unit", "calibrations_calibrationtype"."description", '
    '"calibrations_calibrationtype"."lower_limit", "calibrations_calibrationtype"."upper_limit"'
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
    'SELECT "tagging_tag"."id", "tagging_tag"."name", "tagging_tag"."name_key", '
    '"tagging_tag"."created_at" FROM "tagging_tag" WHERE "tagging_tag"."name_key" = %s '
    'ORDER BY "tagging_tag"."name_key" ASC LIMIT 1'
)
TAGGED_CALIBRATIONS_SQL = (
    f"SELECT {CALIBRATION_COLUMNS}, "
    '"tagging_tagassignment"."calibration_timestamp" AS "tagged_timestamp", '
    f'{TYPE_COLUMNS} FROM "calibrations_calibration" INNER JOIN "tagging_tagassignment" ON '
    '("calibrations_calibration"."id" = "tagging_tagassignment"."calibration_id") '
    f'{TYPE_JOIN} WHERE ("tagging_tagassignment"."tag_id" = %s AND {AS_OF}) '
    'ORDER BY 10 DESC, "calibrations_calibration"."id" DESC LIMIT {}'
)


def tag_names(ids: list[uuid.UUID], as_of: datetime) -> dict[uuid.UUID, list[str]]:
    pairs: list[Any] = []
    if ids:
        sql = TAG_NAMES_OF_SQL.format(", ".join(["%s"] * len(ids)))
        with connection.cursor() as cursor:
            cursor.execute(sql, [as_of, as_of, *ids])
            pairs = cursor.fetchall()
    return common.tag_names_by_calibration(ids, pairs)


def row_json(row: Sequence[Any], type_name: str, tags: list[str]) -> dict[str, Any]:
    """A calibration's JSON from its 9 columns: id, type id, value, timestamp, username,
    created_at, created_by, instrument id, in_tolerance."""
    return common.calibration_json(
        row[0], type_name, row[2], row[3], row[4], row[5], tags, row[7], row[8]
    )


@authenticated("calibrations.add_calibration")
def calibration_create(request: HttpRequest, user: User) -> HttpResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(TYPE_BY_NAME_SQL, [body["calibration_type"]])
        type_row = cursor.fetchone()
        if type_row is None:
            return common.json_response({"calibration_type": ["Unknown calibration type."]}, 400)
    kind = CalibrationType(
        id=type_row[0], name=type_row[1], lower_limit=type_row[4], upper_limit=type_row[5]
    )
    return common.calibration_created(request, user, body, kind)


def calibrations_page(
    request: HttpRequest, sql: str, params: list[Any], as_of: datetime, columns: tuple[int, int]
) -> HttpResponse:
    """A first page of calibrations; `columns`: where the rows hold the cursor's ordering
    value and the type's name."""
    size = common.page_size(request)
    # Django writes a slice's LIMIT into the text, not as a parameter.
    with connection.cursor() as cursor:
        cursor.execute(sql.format(size + 1), params)
        rows = cursor.fetchall()
    names = tag_names([row[0] for row in rows[:size]], as_of)
    ordering, type_name = columns
    results = [row_json(row, row[type_name], names[row[0]]) for row in rows[:size]]
    return common.first_page(request, PREFIX, rows, size, results, lambda row: str(row[ordering]))


@authenticated()
def calibration_list(request: HttpRequest, user: User) -> HttpResponse:
    params = [request.GET["username"], request.GET["calibration_type"]]
    # Rows: the calibration's 9 columns (timestamp: 3), then the type's (9: id, 10: name).
    return calibrations_page(request, CALIBRATION_LIST_SQL, params, timezone.now(), (3, 10))


@authenticated()
def calibration_detail(request: HttpRequest, user: User, calibration_id: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(CALIBRATION_DETAIL_SQL, [uuid.UUID(calibration_id)])
        row = cursor.fetchone()
    if row is None:
        return common.not_found()
    names = tag_names([row[0]], timezone.now())
    return common.json_response(row_json(row, row[10], names[row[0]]))


@authenticated()
def calibration_tags(request: HttpRequest, user: User, calibration_id: str) -> HttpResponse:
    instant = common.as_of_param(request)
    with connection.cursor() as cursor:
        cursor.execute(CALIBRATION_BY_ID_SQL, [uuid.UUID(calibration_id)])
        row = cursor.fetchone()
        if row is None:
            return common.not_found()
    return common.json_response(tag_names([row[0]], instant)[row[0]])


@authenticated()
def tag_calibrations(request: HttpRequest, user: User, tag: str) -> HttpResponse:
    instant = common.as_of_param(request)
    with connection.cursor() as cursor:
        cursor.execute(TAG_BY_NAME_SQL, [tag_key(tag.strip())])
        tag_row = cursor.fetchone()
    if tag_row is None:
        return common.not_found()
    params = [tag_row[0], instant, instant]
    # Rows: the calibration's 9 columns, tagged_timestamp (9), then the type's (10: id, 11: name).
    return calibrations_page(request, TAGGED_CALIBRATIONS_SQL, params, instant, (9, 11))


calibration_dispatch = common.dispatch(calibration_create, calibration_list)


# --- Readings.

ROOM_COLUMNS = (
    '"measurements_room"."room_id", "measurements_room"."name", '
    '"measurements_room"."created_at", "measurements_room"."min_c", "measurements_room"."max_c", '
    '"measurements_room"."alarm_delay", "measurements_room"."alarm_deadband_c", '
    '"measurements_room"."alarms_enabled"'
)
ROOM_SQL = (
    f'SELECT {ROOM_COLUMNS} FROM "measurements_room" WHERE "measurements_room"."room_id" = %s '
    "LIMIT 21"
)
ROOM_INSERT_SQL = (
    'INSERT INTO "measurements_room" ("room_id", "name", "created_at", "min_c", "max_c", '
    '"alarm_delay", "alarm_deadband_c", "alarms_enabled") VALUES (%s, %s, %s, %s, %s, %s, %s, %s)'
)
# A new room's alarm rules: the model's defaults (the ORM writes them into its INSERT).
ROOM_DEFAULTS = [
    field.get_default()
    for field in Room._meta.concrete_fields
    if field.name in ("alarm_delay", "alarm_deadband_c", "alarms_enabled")
]
RANGE_AT_SQL = (
    'SELECT r."{}" FROM "measurements_rangeversion" r WHERE r."room_id" = '
    '"measurements_room"."room_id" AND r.version = COALESCE((SELECT MAX(p.version) FROM '
    '"measurements_rangeversion" p WHERE p."room_id" = "measurements_room"."room_id" AND '
    'p.changed_at <= %s), (SELECT MIN(p.version) FROM "measurements_rangeversion" p WHERE '
    'p."room_id" = "measurements_room"."room_id"))'
)
# `Room.objects.with_range_at(to)`: the room and the range in force at `to`.
ROOM_WITH_RANGE_SQL = (
    f'SELECT {ROOM_COLUMNS}, ({RANGE_AT_SQL.format("min_c")}) AS "range_min_c", '
    f'({RANGE_AT_SQL.format("max_c")}) AS "range_max_c" '
    'FROM "measurements_room" WHERE "measurements_room"."room_id" = %s LIMIT 21'
)
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
            cursor.execute(
                ROOM_INSERT_SQL, [room_id, "", timezone.now(), None, None, *ROOM_DEFAULTS]
            )


def room_exists(room_id: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(ROOM_SQL, [room_id])
        return cursor.fetchone() is not None


@authenticated("measurements.add_measurement", sensor_allowed=True)
def readings_post(request: HttpRequest, user: User, room_id: str) -> HttpResponse:
    data = json.loads(request.body)
    if isinstance(data, list):
        return readings_post_many(room_id, data)
    instant, sensor, value = common.one_reading(data)
    with transaction.atomic():
        with connection.cursor() as cursor:
            room_get_or_create(cursor, room_id)
            created = common.insert_reading(cursor, room_id, instant, sensor, value)
        if created:
            common.announce(room_id, [(instant, value)])
    return common.reading_answer(room_id, instant, sensor, value, created)


def readings_post_many(room_id: str, data: list[dict[str, Any]]) -> HttpResponse:
    rows = common.many_readings(data)
    with transaction.atomic():
        with connection.cursor() as cursor:
            room_get_or_create(cursor, room_id)
            created = common.insert_staged(cursor, room_id, rows)
        if created:
            common.announce(room_id)
    return common.readings_answer(room_id, data, created)


@authenticated()
def room_average(request: HttpRequest, user: User, room_id: str, window_text: str) -> HttpResponse:
    method, energy = common.method_param(request)
    if not room_exists(room_id):
        return common.not_found()
    end = timezone.now()
    start = end - common.duration(window_text)
    if method != "mean":
        summary = common.weighted_summary(method, room_id, start, end, energy)
        return common.average_answer(room_id, window_text, start, end, summary, method, energy)
    with connection.cursor() as cursor:
        cursor.execute(AVERAGE_SQL, [room_id, start, end])
        average, low, high, count = cursor.fetchone()
    stats = {"average": average, "min": low, "max": high, "count": count}
    return common.average_answer(room_id, window_text, start, end, stats)


@authenticated()
def room_series(request: HttpRequest, user: User, room_id: str) -> HttpResponse:
    width, start, end = common.series_window(request)
    method, energy = common.method_param(request)
    if not room_exists(room_id):
        return common.not_found()
    if method != "mean":
        return common.json_response(
            common.weighted_buckets(method, room_id, start, end, width, energy)
        )
    with connection.cursor() as cursor:
        params: list[Any] = [width, common.EPOCH, room_id, start, end]
        cursor.execute(SERIES_SQL, params)
        buckets = [common.bucket_json(*row) for row in cursor.fetchall()]
    return common.json_response(buckets)


@authenticated()
def room_excursions(request: HttpRequest, user: User, room_id: str) -> HttpResponse:
    """The room with the range in force at `to` as text, then the runs by the selector's own
    SQL text (the route's second statement is not the ORM's: the selector writes it)."""
    start, end = common.window_param(request)
    with connection.cursor() as cursor:
        cursor.execute(ROOM_WITH_RANGE_SQL, [end, end, room_id])
        row = cursor.fetchone()
    if row is None:
        return common.not_found()
    found = excursions(room_id, start, end)
    return common.excursions_answer(room_id, start, end, row[8], row[9], found)


# --- Rooms.

# `measurements.status.NewestInstantStatus`: the newest instant against the range in force.
ROOM_STATUS_SQL = (
    "( SELECT CASE WHEN s.t < %s THEN %s ELSE COALESCE(( SELECT CASE WHEN r.min_c IS NULL "
    "THEN %s WHEN s.v < r.min_c THEN %s WHEN s.v > r.max_c THEN %s ELSE %s END FROM "
    '"measurements_rangeversion" r WHERE r."room_id" = "measurements_room"."room_id" AND '
    'r.version = COALESCE((SELECT MAX(p.version) FROM "measurements_rangeversion" p WHERE '
    'p."room_id" = "measurements_room"."room_id" AND p.changed_at <= s.t), (SELECT '
    'MIN(p.version) FROM "measurements_rangeversion" p WHERE p."room_id" = '
    '"measurements_room"."room_id")) ), %s) END FROM ( SELECT m."timestamp" AS t, '
    'AVG(m."value") AS v FROM "measurements_measurement" m WHERE m."room_id" = '
    '"measurements_room"."room_id" AND m."timestamp" = ( SELECT MAX(n."timestamp") FROM '
    '"measurements_measurement" n WHERE n."room_id" = "measurements_room"."room_id" ) '
    'GROUP BY m."timestamp" ) s )'
)
# The room's newest instant (`NewestInstant`), as the status reads it too.
NEWEST_SQL = (
    '(SELECT MAX(n."timestamp") FROM "measurements_measurement" n WHERE n."room_id" = '
    '"measurements_room"."room_id")'
)
ROOMS_SQL = (
    f'SELECT {ROOM_COLUMNS}, {NEWEST_SQL} AS "last_timestamp", (SELECT AVG(m."value") FROM '
    '"measurements_measurement" m WHERE m."room_id" = "measurements_room"."room_id" AND '
    f'm."timestamp" = {NEWEST_SQL}) AS "last_value", COALESCE({ROOM_STATUS_SQL}, %s) AS '
    '"status", (SELECT COUNT(*) FROM "monitoring_alarm" a WHERE a."room_id" = '
    '"measurements_room"."room_id" AND (a."cleared_at" IS NULL OR a."acknowledged_at" IS NULL))'
    ' AS "open_alarms" FROM "measurements_room" ORDER BY "measurements_room"."room_id" ASC '
    "LIMIT "
)
STATUS_PARAMS = [
    str(status)
    for status in (
        RoomStatus.STALE,
        RoomStatus.NO_RANGE,
        RoomStatus.LOW,
        RoomStatus.HIGH,
        RoomStatus.OK,
        RoomStatus.NO_RANGE,
        RoomStatus.NO_DATA,
    )
]


@authenticated()
def rooms_list(request: HttpRequest, user: User) -> HttpResponse:
    size = common.page_size(request)
    with connection.cursor() as cursor:
        # Django writes a slice's LIMIT into the text, not as a parameter.
        cursor.execute(ROOMS_SQL + str(size + 1), [common.stale_before(), *STATUS_PARAMS])
        rows = cursor.fetchall()
    # Rows: the room's 8 columns, then last_timestamp, last_value, status, open_alarms.
    results = [
        common.room_json(row[0], row[1], row[2], row[3], row[4], row[10], row[8], row[9], row[11])
        for row in rows[:size]
    ]
    return common.first_page(request, PREFIX, rows, size, results, lambda row: row[0])


ROOM_ID_SQL = (
    'SELECT "measurements_room"."room_id" FROM "measurements_room" '
    'WHERE "measurements_room"."room_id" = %s LIMIT 21'
)
RANGE_HISTORY_SQL = (
    'SELECT "measurements_rangeversion"."id", "measurements_rangeversion"."room_id", '
    '"measurements_rangeversion"."version", "measurements_rangeversion"."min_c", '
    '"measurements_rangeversion"."max_c", "measurements_rangeversion"."changed_at", '
    '"measurements_rangeversion"."changed_by", "measurements_rangeversion"."reason" '
    'FROM "measurements_rangeversion" WHERE "measurements_rangeversion"."room_id" = %s '
    'ORDER BY "measurements_rangeversion"."version" ASC'
)


@authenticated()
def range_history(request: HttpRequest, user: User, room_id: str) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute(ROOM_ID_SQL, [room_id])
        if cursor.fetchone() is None:
            return common.not_found()
        cursor.execute(RANGE_HISTORY_SQL, [room_id])
        versions = [common.range_version_json(*row[2:]) for row in cursor.fetchall()]
    return common.json_response(versions)


# --- Instruments.

INSTRUMENT_COLUMNS = (
    '"calibrations_instrument"."instrument_id", "calibrations_instrument"."name", '
    '"calibrations_instrument"."kind", "calibrations_instrument"."serial_number", '
    '"calibrations_instrument"."calibration_interval_days", '
    '"calibrations_instrument"."retired_at", "calibrations_instrument"."created_at"'
)


_STANDING = ", ".join(f'"calibrations_instrument"."{column}"' for column in STANDING_FIELDS)
# `Instrument.objects.with_status(now, due_soon)`, soonest due first: the instrument's columns,
# the standing it keeps, then the annotations (columns 15–19: the newest calibration's id,
# timestamp and in_tolerance, due_at, status).
INSTRUMENTS_SQL = (
    f"SELECT {INSTRUMENT_COLUMNS}, {_STANDING}, "
    '"calibrations_instrument"."newest_calibration_id" AS "last_calibration_id", '
    '"calibrations_instrument"."newest_calibration_timestamp" AS "last_calibration_timestamp", '
    '"calibrations_instrument"."newest_calibration_in_tolerance" AS '
    '"last_calibration_in_tolerance", "calibrations_instrument"."next_due_at" AS "due_at", '
    'CASE WHEN "calibrations_instrument"."retired_at" <= %s THEN %s WHEN NOT '
    '"calibrations_instrument"."newest_calibration_in_tolerance" THEN %s WHEN '
    '"calibrations_instrument"."newest_calibration_id" IS NULL THEN %s WHEN '
    '"calibrations_instrument"."due_sort" < %s THEN %s WHEN ("calibrations_instrument"."due_sort" '
    '<= %s AND "calibrations_instrument"."next_due_at" IS NOT NULL) THEN %s ELSE %s END AS "status" '
    'FROM "calibrations_instrument" ORDER BY "calibrations_instrument"."due_sort" ASC, '
    '"calibrations_instrument"."instrument_id" ASC LIMIT '
)


def instruments_params(at: datetime) -> list[Any]:
    return [
        *(at, InstrumentStatus.RETIRED, InstrumentStatus.OUT_OF_TOLERANCE),
        *(InstrumentStatus.NEVER_CALIBRATED, at, InstrumentStatus.OVERDUE),
        *(common.due_soon_until(at), InstrumentStatus.DUE_SOON, InstrumentStatus.OK),
    ]


@authenticated()
def instruments_list(request: HttpRequest, user: User) -> HttpResponse:
    size = common.page_size(request)
    with connection.cursor() as cursor:
        # Django writes a slice's LIMIT into the text, not as a parameter.
        cursor.execute(INSTRUMENTS_SQL + str(size + 1), instruments_params(timezone.now()))
        rows = cursor.fetchall()
    # Rows: the instrument's 7 columns, the 7 of its standing (`due_sort` last), then the 5
    # annotations the representation shows.
    results = [common.instrument_json(*row[:7], *row[14:19]) for row in rows[:size]]
    return common.first_page(request, PREFIX, rows, size, results, lambda row: str(row[13]))


# --- Alarms.

ALARMS_SQL = (
    'SELECT "monitoring_alarm"."id", "monitoring_alarm"."room_id", "monitoring_alarm"."kind", '
    '"monitoring_alarm"."opened_at", "monitoring_alarm"."raised_at", '
    '"monitoring_alarm"."cleared_at", "monitoring_alarm"."peak", "monitoring_alarm"."readings", '
    '"monitoring_alarm"."acknowledged_at", "monitoring_alarm"."acknowledged_by", '
    '"monitoring_alarm"."comment", "monitoring_alarm"."announced_at" FROM "monitoring_alarm" '
    'ORDER BY "monitoring_alarm"."raised_at" DESC, "monitoring_alarm"."id" DESC LIMIT '
)
# The prefetches of `notifications__target`: a page's notifications, then their targets.
NOTIFICATIONS_SQL = (
    'SELECT "monitoring_notification"."id", "monitoring_notification"."alarm_id", '
    '"monitoring_notification"."instrument_id", "monitoring_notification"."event", '
    '"monitoring_notification"."target_id", "monitoring_notification"."state", '
    '"monitoring_notification"."attempts", "monitoring_notification"."last_error", '
    '"monitoring_notification"."created_at", "monitoring_notification"."sent_at", '
    '"monitoring_notification"."next_attempt_at" FROM "monitoring_notification" WHERE '
    '"monitoring_notification"."alarm_id" IN ({}) ORDER BY '
    '"monitoring_notification"."created_at" ASC, "monitoring_notification"."id" ASC'
)
TARGETS_SQL = (
    'SELECT "monitoring_notificationtarget"."id", "monitoring_notificationtarget"."name", '
    '"monitoring_notificationtarget"."url", "monitoring_notificationtarget"."enabled", '
    '"monitoring_notificationtarget"."events" FROM "monitoring_notificationtarget" WHERE '
    '("monitoring_notificationtarget"."id") IN ({})'
)


@authenticated()
def alarms_list(request: HttpRequest, user: User) -> HttpResponse:
    size = common.page_size(request)
    by_alarm: dict[int, list[Any]] = {}
    targets: dict[int, tuple[str, str]] = {}
    with connection.cursor() as cursor:
        # Django writes a slice's LIMIT into the text, not as a parameter.
        cursor.execute(ALARMS_SQL + str(size + 1), [])
        rows = cursor.fetchall()
        ids = [row[0] for row in rows]
        if ids:
            cursor.execute(NOTIFICATIONS_SQL.format(", ".join(["%s"] * len(ids))), ids)
            for note in cursor.fetchall():
                by_alarm.setdefault(note[1], []).append(note)
        # As Django's prefetch gathers them: alarm by alarm, each target at its first mention.
        target_ids = list(
            dict.fromkeys(note[4] for alarm in ids for note in by_alarm.get(alarm, []))
        )
        if target_ids:
            sql = TARGETS_SQL.format(", ".join(["(%s)"] * len(target_ids)))
            cursor.execute(sql, target_ids)
            targets = {pk: (name, url) for pk, name, url, _, _ in cursor.fetchall()}

    def notifications(alarm_id: int) -> list[dict[str, Any]]:
        # Rows: id, alarm, instrument, event, target, state, attempts, last_error, created_at,
        # sent_at, next_attempt_at.
        return [
            common.notification_json(*targets[target], event, state, attempts, sent_at, error)
            for _, _, _, event, target, state, attempts, error, _, sent_at, _ in by_alarm.get(
                alarm_id, []
            )
        ]

    # Rows: the alarm's 12 columns (the last, announced_at, not shown).
    results = [
        common.alarm_json(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            row[6],
            row[7],
            row[8],
            row[9],
            row[10],
            notifications(row[0]),
        )
        for row in rows[:size]
    ]
    return common.first_page(request, PREFIX, rows, size, results, lambda row: str(row[4]))
