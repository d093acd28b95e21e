"""The framework floor (DESIGN §8): plain Django views, no DRF, for each measured API route.

Each view does its route's work the plain Django way — the ORM, `user.has_perm`, a
`JsonResponse`-like answer from the standard library's encoder — running exactly the SQL
statements its route runs (same text, same parameters, same transaction boundaries) and
answering the same JSON. It is what Django itself costs for that work; the bench reports each
route's req/s as a share of its floor's, measured in turns in the same gunicorn processes.
What a route spends beyond its floor is its DRF layer: request wrapping, authentication and
permission classes, serializers, pagination, filters, rendering.

Mounted under `/floor/` by `bench/urls.py` (only `bench.settings` uses that URLconf); a floor's
path is its route's path behind that prefix, so the wrk scripts serve both.
`tests/bench/test_floors.py` sends the same request to a route and to its floor and compares
the statements (text, parameters, transaction depth) and the JSON: when a route's SQL changes,
that test fails until its floor runs the new SQL too.

Floors handle the requests the bench sends (valid ones); they validate nothing else.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db import connection, models, transaction
from django.db.models import Avg, Count, F, Max, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_duration
from django.views.decorators.csrf import csrf_exempt

from accounts.credentials import find_token
from accounts.permissions import SENSOR_PERMISSION
from calibrations import services
from calibrations.models import Calibration, CalibrationType
from config.api.fields import utc_iso
from measurements.models import Measurement, Room
from tagging.models import Tag, TagAssignment, tag_sort_key

PREFIX = "/floor"


def json_response(data: Any, status: int = 200) -> HttpResponse:
    """Compact JSON, non-ASCII as UTF-8, never NaN: what DRF's JSONRenderer writes."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return HttpResponse(body.encode(), status=status, content_type="application/json")


def authenticated(
    permission: str | None = None, sensor_allowed: bool = False
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """The token lookup (through the credentials cache, as the route's), the sensor-account
    rule (`user.get_all_permissions()`), then for a write `user.has_perm`."""

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        def floor(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme != "Token" or not key:
                return json_response({"detail": "Not authenticated."}, 401)
            token = find_token(key)
            if token is None:
                return json_response({"detail": "Invalid token."}, 401)
            user = token.user
            if not user.is_active:
                return json_response({"detail": "Invalid token."}, 401)
            sensor = not user.is_superuser and user.get_all_permissions() == {SENSOR_PERMISSION}
            if sensor and not sensor_allowed:
                return json_response({"detail": "Sensor account."}, 403)
            if permission and not user.has_perm(permission):
                return json_response({"detail": "Permission denied."}, 403)
            return view(request, user, **kwargs)

        return csrf_exempt(floor)

    return wrap


def first_page_next(
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
    query = urlencode(sorted({**request.GET.dict(), "cursor": cursor}.items()))
    # The route's own path: the floor answers as if it were the route.
    return request.build_absolute_uri(request.path.removeprefix(PREFIX) + "?" + query)


# --- Calibrations.


def as_of(instant: datetime) -> Q:
    return Q(added_at__lte=instant) & (Q(removed_at__isnull=True) | Q(removed_at__gt=instant))


def tag_names(ids: list[uuid.UUID], instant: datetime) -> dict[uuid.UUID, list[str]]:
    names: dict[uuid.UUID, list[str]] = {pk: [] for pk in ids}
    if ids:
        pairs = (
            TagAssignment.objects.filter(as_of(instant))
            .filter(calibration_id__in=ids)
            .order_by()
            .values_list("calibration_id", "tag__name")
        )
        for calibration_id, name in pairs:
            names[calibration_id].append(name)
    return {pk: sorted(found, key=tag_sort_key) for pk, found in names.items()}


def calibration_json(calibration: Calibration, tags: list[str]) -> dict[str, Any]:
    return {
        "calibration_id": str(calibration.pk),
        "calibration_type": calibration.calibration_type.name,
        "value": calibration.value,
        "timestamp": utc_iso(calibration.timestamp),
        "username": calibration.username,
        "tags": tags,
        "created_at": utc_iso(calibration.created_at),
    }


def instant_param(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name)
    return datetime.fromisoformat(raw).astimezone(UTC) if raw else None


@authenticated("calibrations.add_calibration")
def calibration_create(request: HttpRequest, user: Any) -> HttpResponse:
    body = json.loads(request.body)
    try:
        kind = CalibrationType.objects.get(name=body["calibration_type"])
    except CalibrationType.DoesNotExist:
        return json_response({"calibration_type": ["Unknown calibration type."]}, 400)
    # The service writes the calibration and its version 1 in one statement of its own SQL:
    # the floor calls it rather than copy that text (it has no DRF in it).
    calibration = services.calibration_create(
        calibration_type=kind,
        value=float(body["value"]),
        username=body.get("username") or user.username,
        timestamp=timezone.now(),
        created_by=user,
    )
    response = json_response(calibration_json(calibration, []), 201)
    response["Location"] = request.build_absolute_uri(f"/api/calibrations/{calibration.pk}")
    return response


def calibrations_page(
    request: HttpRequest, queryset: Any, instant: datetime, ordering: str
) -> HttpResponse:
    """A first page of calibrations, newest first by `ordering`, with DRF's cursor link."""
    size = int(request.GET.get("page_size") or 50)
    rows = list(queryset.order_by(f"-{ordering}", "-pk")[: size + 1])
    names = tag_names([row.pk for row in rows[:size]], instant)
    results = [calibration_json(row, names[row.pk]) for row in rows[:size]]
    next_link = first_page_next(request, rows, size, lambda row: str(getattr(row, ordering)))
    return json_response({"next": next_link, "previous": None, "results": results})


@authenticated()
def calibration_list(request: HttpRequest, user: Any) -> HttpResponse:
    kind = CalibrationType.objects.filter(name=request.GET["calibration_type"]).values("pk")[:1]
    calibrations = (
        Calibration.objects.select_related("calibration_type")
        .filter(username=request.GET["username"])
        .filter(calibration_type=kind)
    )
    return calibrations_page(request, calibrations, timezone.now(), "timestamp")


@authenticated()
def calibration_detail(request: HttpRequest, user: Any, calibration_id: str) -> HttpResponse:
    try:
        calibration = Calibration.objects.select_related("calibration_type").get(pk=calibration_id)
    except Calibration.DoesNotExist:
        return json_response({"detail": "Not found."}, 404)
    names = tag_names([calibration.pk], timezone.now())
    return json_response(calibration_json(calibration, names[calibration.pk]))


@authenticated()
def calibration_tags(request: HttpRequest, user: Any, calibration_id: str) -> HttpResponse:
    instant = instant_param(request, "timestamp") or timezone.now()
    try:
        calibration = Calibration.objects.get(pk=calibration_id)
    except Calibration.DoesNotExist:
        return json_response({"detail": "Not found."}, 404)
    return json_response(tag_names([calibration.pk], instant)[calibration.pk])


@authenticated()
def tag_calibrations(request: HttpRequest, user: Any, tag: str) -> HttpResponse:
    instant = instant_param(request, "timestamp") or timezone.now()
    the_tag = Tag.objects.filter(name__iexact=tag).order_by("name").first()
    if the_tag is None:
        return json_response({"detail": "Not found."}, 404)
    calibrations = (
        Calibration.objects.select_related("calibration_type")
        .filter(
            Q(tag_assignments__tag=the_tag)
            & Q(tag_assignments__added_at__lte=instant)
            & (
                Q(tag_assignments__removed_at__isnull=True)
                | Q(tag_assignments__removed_at__gt=instant)
            )
        )
        .annotate(tagged_timestamp=F("tag_assignments__calibration_timestamp"))
    )
    return calibrations_page(request, calibrations, instant, "tagged_timestamp")


# --- Readings.

# The services write readings with SQL of their own (INSERT … ON CONFLICT, a COPY into a
# staging table): so does the floor, with the same text.
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


class DateBin(models.Func):
    function = "DATE_BIN"
    output_field = models.DateTimeField()


def reading_time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def duration(text: str) -> timedelta:
    shorthand = SHORTHAND.fullmatch(text)
    if shorthand:
        return timedelta(**{SHORTHAND_UNITS[shorthand[2]]: int(shorthand[1])})
    parsed = parse_duration(text)
    assert parsed is not None
    return parsed


def window(room: Room, start: datetime, end: datetime) -> Any:
    return Measurement.objects.filter(room_id=room.pk, timestamp__gte=start, timestamp__lte=end)


@authenticated("measurements.add_measurement", sensor_allowed=True)
def readings_post(request: HttpRequest, user: Any, room_id: str) -> HttpResponse:
    data = json.loads(request.body)
    if isinstance(data, list):
        return readings_post_many(room_id, data)
    # One reading, in °C (the bench posts °C), timestamped now unless it says when.
    instant = reading_time(data["timestamp"]) if "timestamp" in data else timezone.now()
    sensor, value = data.get("sensor", ""), float(data["value"])
    with transaction.atomic():
        room, _ = Room.objects.get_or_create(room_id=room_id)
        with connection.cursor() as cursor:
            cursor.execute(READING_INSERT_SQL, [room.pk, instant, sensor, value])
            created = cursor.fetchone() is not None
    body = {"room_id": room_id, "timestamp": utc_iso(instant), "value": value, "unit": "C"}
    return json_response({**body, "sensor": sensor}, 201 if created else 200)


def readings_post_many(room_id: str, data: list[dict[str, Any]]) -> HttpResponse:
    rows: dict[tuple[datetime, str], float] = {}
    for item in data:
        key = (reading_time(item["timestamp"]), item.get("sensor", ""))
        rows.setdefault(key, float(item["value"]))
    with transaction.atomic():
        Room.objects.get_or_create(room_id=room_id)
        with connection.cursor() as cursor:
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
def room_average(request: HttpRequest, user: Any, room_id: str, window_text: str) -> HttpResponse:
    try:
        room = Room.objects.get(pk=room_id)
    except Room.DoesNotExist:
        return json_response({"detail": "Not found."}, 404)
    end = timezone.now()
    start = end - duration(window_text)
    stats = (
        window(room, start, end)
        .order_by()
        .aggregate(average=Avg("value"), min=Min("value"), max=Max("value"), count=Count("*"))
    )
    body = {"room_id": room_id, "duration": window_text, "from": utc_iso(start), "to": utc_iso(end)}
    return json_response({**body, "unit": "C", **stats, "method": "mean"})


@authenticated()
def room_series(request: HttpRequest, user: Any, room_id: str) -> HttpResponse:
    width = duration(request.GET.get("bucket", "1h"))
    end = instant_param(request, "to") or timezone.now()
    start = instant_param(request, "from") or end - timedelta(days=7)
    try:
        room = Room.objects.get(pk=room_id)
    except Room.DoesNotExist:
        return json_response({"detail": "Not found."}, 404)
    rows = (
        window(room, start, end)
        .order_by()
        .annotate(
            start=DateBin(
                models.Value(width, output_field=models.DurationField()),
                "timestamp",
                models.Value(EPOCH, output_field=models.DateTimeField()),
            )
        )
        .values("start")
        .annotate(average=Avg("value"), min=Min("value"), max=Max("value"), count=Count("*"))
        .order_by("start")
    )
    return json_response([{**row, "start": utc_iso(row["start"])} for row in rows])


@csrf_exempt
def calibration_dispatch(request: HttpRequest) -> HttpResponse:
    """`/api/calibrations` answers a POST (create) and a GET (list)."""
    view = calibration_create if request.method == "POST" else calibration_list
    return view(request)
