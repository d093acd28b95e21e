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

What this floor shares with the SQL floor (bench/floors_sql.py) — the token, parsing, the
services' own SQL for readings, the JSON answers — is in bench/floors_common.py; what is
here is its queries, written with the ORM, and its permission checks.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Avg, Count, F, Max, Min, Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from accounts.permissions import SENSOR_PERMISSION
from bench import floors_common as common
from calibrations.conf import due_soon
from calibrations.models import Calibration, CalibrationType, Instrument
from measurements.conf import stale_after
from measurements.models import Measurement, RangeVersion, Room
from measurements.selectors import excursions
from monitoring.models import Alarm
from monitoring.selectors import OpenAlarms
from tagging.models import Tag, TagAssignment

PREFIX = "/floor"


def refuse(user: Any, permission: str | None, sensor_allowed: bool) -> HttpResponse | None:
    """The sensor-account rule through `user.get_all_permissions()`, then for a write
    `user.has_perm`, as the route's permission classes ask them."""
    sensor = not user.is_superuser and user.get_all_permissions() == {SENSOR_PERMISSION}
    if sensor and not sensor_allowed:
        return common.json_response({"detail": "Sensor account."}, 403)
    if permission and not user.has_perm(permission):
        return common.json_response({"detail": "Permission denied."}, 403)
    return None


authenticated = common.authentication(refuse)


# --- Calibrations.


def as_of(instant: datetime) -> Q:
    return Q(added_at__lte=instant) & (Q(removed_at__isnull=True) | Q(removed_at__gt=instant))


def tag_names(ids: list[uuid.UUID], instant: datetime) -> dict[uuid.UUID, list[str]]:
    pairs: Any = ()
    if ids:
        pairs = (
            TagAssignment.objects.filter(as_of(instant))
            .filter(calibration_id__in=ids)
            .order_by()
            .values_list("calibration_id", "tag__name")
        )
    return common.tag_names_by_calibration(ids, pairs)


def model_json(calibration: Calibration, tags: list[str]) -> dict[str, Any]:
    return common.calibration_json(
        calibration.pk,
        calibration.calibration_type.name,
        calibration.value,
        calibration.timestamp,
        calibration.username,
        calibration.created_at,
        tags,
        calibration.instrument_id,
        calibration.in_tolerance,
    )


@authenticated("calibrations.add_calibration")
def calibration_create(request: HttpRequest, user: Any) -> HttpResponse:
    body = json.loads(request.body)
    try:
        kind = CalibrationType.objects.get(name=body["calibration_type"])
    except CalibrationType.DoesNotExist:
        return common.json_response({"calibration_type": ["Unknown calibration type."]}, 400)
    return common.calibration_created(request, user, body, kind)


def calibrations_page(
    request: HttpRequest, queryset: Any, instant: datetime, ordering: str
) -> HttpResponse:
    """A first page of calibrations, newest first by `ordering`, with DRF's cursor link."""
    size = common.page_size(request)
    rows = list(queryset.order_by(f"-{ordering}", "-pk")[: size + 1])
    names = tag_names([row.pk for row in rows[:size]], instant)
    results = [model_json(row, names[row.pk]) for row in rows[:size]]
    return common.first_page(
        request, PREFIX, rows, size, results, lambda row: str(getattr(row, ordering))
    )


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
        return common.not_found()
    names = tag_names([calibration.pk], timezone.now())
    return common.json_response(model_json(calibration, names[calibration.pk]))


@authenticated()
def calibration_tags(request: HttpRequest, user: Any, calibration_id: str) -> HttpResponse:
    instant = common.as_of_param(request)
    try:
        calibration = Calibration.objects.get(pk=calibration_id)
    except Calibration.DoesNotExist:
        return common.not_found()
    return common.json_response(tag_names([calibration.pk], instant)[calibration.pk])


@authenticated()
def tag_calibrations(request: HttpRequest, user: Any, tag: str) -> HttpResponse:
    instant = common.as_of_param(request)
    the_tag = Tag.objects.named(tag).first()
    if the_tag is None:
        return common.not_found()
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


calibration_dispatch = common.dispatch(calibration_create, calibration_list)


# --- Readings.


class DateBin(models.Func):
    function = "DATE_BIN"
    output_field = models.DateTimeField()


def find_room(room_id: str) -> Room | None:
    try:
        return Room.objects.get(pk=room_id)
    except Room.DoesNotExist:
        return None


def window(room: Room, start: datetime, end: datetime) -> Any:
    return Measurement.objects.filter(room_id=room.pk, timestamp__gte=start, timestamp__lte=end)


@authenticated("measurements.add_measurement", sensor_allowed=True)
def readings_post(request: HttpRequest, user: Any, room_id: str) -> HttpResponse:
    data = json.loads(request.body)
    if isinstance(data, list):
        return readings_post_many(room_id, data)
    instant, sensor, value = common.one_reading(data)
    with transaction.atomic():
        room, _ = Room.objects.get_or_create(room_id=room_id)
        with connection.cursor() as cursor:
            created = common.insert_reading(cursor, room.pk, instant, sensor, value)
        if created:
            common.announce(room.pk, [(instant, value)])
    return common.reading_answer(room_id, instant, sensor, value, created)


def readings_post_many(room_id: str, data: list[dict[str, Any]]) -> HttpResponse:
    rows = common.many_readings(data)
    with transaction.atomic():
        Room.objects.get_or_create(room_id=room_id)
        with connection.cursor() as cursor:
            created = common.insert_staged(cursor, room_id, rows)
        if created:
            common.announce(room_id)
    return common.readings_answer(room_id, data, created)


@authenticated()
def room_average(request: HttpRequest, user: Any, room_id: str, window_text: str) -> HttpResponse:
    room = find_room(room_id)
    if room is None:
        return common.not_found()
    method, energy = common.method_param(request)
    end = timezone.now()
    start = end - common.duration(window_text)
    if method != "mean":
        stats = common.weighted_summary(method, room.pk, start, end, energy)
        return common.average_answer(room_id, window_text, start, end, stats, method, energy)
    figures = (
        window(room, start, end)
        .order_by()
        .aggregate(average=Avg("value"), min=Min("value"), max=Max("value"), count=Count("*"))
    )
    return common.average_answer(room_id, window_text, start, end, figures)


@authenticated()
def room_series(request: HttpRequest, user: Any, room_id: str) -> HttpResponse:
    width, start, end = common.series_window(request)
    method, energy = common.method_param(request)
    room = find_room(room_id)
    if room is None:
        return common.not_found()
    if method != "mean":
        return common.json_response(
            common.weighted_buckets(method, room.pk, start, end, width, energy)
        )
    rows = (
        window(room, start, end)
        .order_by()
        .annotate(
            start=DateBin(
                models.Value(width, output_field=models.DurationField()),
                "timestamp",
                models.Value(common.EPOCH, output_field=models.DateTimeField()),
            )
        )
        .values("start")
        .annotate(average=Avg("value"), min=Min("value"), max=Max("value"), count=Count("*"))
        .order_by("start")
    )
    buckets = [
        common.bucket_json(row["start"], row["average"], row["min"], row["max"], row["count"])
        for row in rows
    ]
    return common.json_response(buckets)


@authenticated()
def room_excursions(request: HttpRequest, user: Any, room_id: str) -> HttpResponse:
    """The room with the range in force at `to` through the model's own queryset method, then
    the runs by the selector's SQL text (as the route: its one statement is not the ORM's)."""
    start, end = common.window_param(request)
    try:
        room = Room.objects.with_range_at(end).get(pk=room_id)
    except Room.DoesNotExist:
        return common.not_found()
    found = excursions(room, start, end)
    low, high = room.range_min_c, room.range_max_c  # type: ignore[attr-defined]
    return common.excursions_answer(room_id, start, end, low, high, found)


# --- Rooms.


@authenticated()
def rooms_list(request: HttpRequest, user: Any) -> HttpResponse:
    """A first page of rooms by id: each with its status and newest instant (the model's
    `with_status`) and its open alarms (the count monitoring's rooms route adds)."""
    size = common.page_size(request)
    rooms = (
        Room.objects.with_status(now=timezone.now(), stale_after=stale_after())
        .annotate(open_alarms=OpenAlarms())
        .order_by("room_id")
    )
    rows: list[Any] = list(rooms[: size + 1])
    results = [
        common.room_json(
            row.room_id,
            row.name,
            row.created_at,
            row.min_c,
            row.max_c,
            row.status,
            row.last_timestamp,
            row.last_value,
            row.open_alarms,
        )
        for row in rows[:size]
    ]
    return common.first_page(request, PREFIX, rows, size, results, lambda row: row.room_id)


@authenticated()
def range_history(request: HttpRequest, user: Any, room_id: str) -> HttpResponse:
    """A room's range versions, oldest first (the model's `of_room`)."""
    try:
        room = Room.objects.only("pk").get(pk=room_id)
    except Room.DoesNotExist:
        return common.not_found()
    versions = [
        common.range_version_json(v.version, v.min_c, v.max_c, v.changed_at, v.changed_by, v.reason)
        for v in RangeVersion.objects.of_room(room)
    ]
    return common.json_response(versions)


# --- Instruments.


@authenticated()
def instruments_list(request: HttpRequest, user: Any) -> HttpResponse:
    """A first page of the register, soonest due first (none: last), through the model's
    `with_status`, with DRF's cursor link."""
    size = common.page_size(request)
    instruments = Instrument.objects.with_status(now=timezone.now(), due_soon=due_soon()).order_by(
        "due_sort", "pk"
    )
    rows: list[Any] = list(instruments[: size + 1])
    results = [
        common.instrument_json(
            row.instrument_id,
            row.name,
            row.kind,
            row.serial_number,
            row.calibration_interval_days,
            row.retired_at,
            row.created_at,
            row.last_calibration_id,
            row.last_calibration_timestamp,
            row.last_calibration_in_tolerance,
            row.due_at,
            row.status,
        )
        for row in rows[:size]
    ]
    return common.first_page(request, PREFIX, rows, size, results, lambda row: str(row.due_sort))


# --- Alarms.


@authenticated()
def alarms_list(request: HttpRequest, user: Any) -> HttpResponse:
    """A first page of alarms, newest raised first, their notifications and targets
    prefetched (two more queries, as the route), with DRF's cursor link."""
    size = common.page_size(request)
    alarms = Alarm.objects.prefetch_related("notifications__target").order_by("-raised_at", "-id")
    rows = list(alarms[: size + 1])
    results = [
        common.alarm_json(
            alarm.pk,
            alarm.room_id,
            alarm.kind,
            alarm.opened_at,
            alarm.raised_at,
            alarm.cleared_at,
            alarm.peak,
            alarm.readings,
            alarm.acknowledged_at,
            alarm.acknowledged_by,
            alarm.comment,
            [
                common.notification_json(
                    n.target.name,
                    n.target.url,
                    n.event,
                    n.state,
                    n.attempts,
                    n.sent_at,
                    n.last_error,
                )
                for n in alarm.notifications.all()
            ],
        )
        for alarm in rows[:size]
    ]
    return common.first_page(request, PREFIX, rows, size, results, lambda a: str(a.raised_at))
