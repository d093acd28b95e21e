"""Alarms (DESIGN §4.8): raised and cleared by the readings that prove it, in the ingest's
transaction; `no_data` raised by the sweep; announced again while nobody acknowledges them.

A room's readings are judged in time order, continuing from the last instant judged
(`RoomJudgement`, locked while judging, so two posters of one room are judged one after the
other and no reading is judged twice or lost between them). Readings of one instant count as
one reading, their mean; an alarm's `peak` and `readings` count and bound the stored readings.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Subquery
from django.utils import timezone

from measurements.models import Measurement, Room

from ..models import Alarm, AlarmKind, Event, RoomJudgement
from .outbox import notifications_write


class AlreadyAcknowledgedError(Exception):
    """The alarm was acknowledged before (by someone, with a comment)."""

    def __init__(self, alarm: Alarm) -> None:
        super().__init__(
            f"Alarm {alarm.pk} was acknowledged by {alarm.acknowledged_by or 'someone'} "
            f"at {alarm.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC."
        )
        self.alarm = alarm


@dataclass(frozen=True)
class Instant:
    """The readings of one instant of a room: their mean judges, their count and bounds count."""

    at: datetime
    mean: float
    count: int
    low: float
    high: float


def _instants_after(room_id: str, after: datetime | None) -> Iterator[Instant]:
    readings = Measurement.objects.filter(room_id=room_id)
    if after is not None:
        readings = readings.filter(timestamp__gt=after)
    rows = (
        readings.values("timestamp")
        .annotate(mean=Avg("value"), count=Count("*"), low=Min("value"), high=Max("value"))
        .order_by("timestamp")
        .values_list("timestamp", "mean", "count", "low", "high")
    )
    for at, mean, count, low, high in rows.iterator(chunk_size=2000):
        yield Instant(at, mean, count, low, high)


def _side(value: float, min_c: float | None, max_c: float | None) -> str:
    """`high`, `low`, or "" inside the range (a bound is inside; no range: inside)."""
    if min_c is None or max_c is None:
        return ""
    if value > max_c:
        return AlarmKind.HIGH
    if value < min_c:
        return AlarmKind.LOW
    return ""


def _further(kind: str, peak: float | None, instant: Instant) -> float:
    """The peak of a run on `kind`'s side after `instant`: the highest reading of a high run,
    the lowest of a low one (of the stored readings, not their mean)."""
    if kind == AlarmKind.HIGH:
        return instant.high if peak is None else max(peak, instant.high)
    return instant.low if peak is None else min(peak, instant.low)


def _clears(alarm: Alarm, value: float, room: Room) -> bool:
    """Whether a reading ends `alarm`: back inside by the deadband (no range: inside)."""
    if alarm.kind == AlarmKind.NO_DATA or room.min_c is None or room.max_c is None:
        return True
    if alarm.kind == AlarmKind.HIGH:
        return value <= room.max_c - room.alarm_deadband_c
    return value >= room.min_c + room.alarm_deadband_c


@transaction.atomic
def room_judge(*, room_id: str) -> list[Alarm]:
    """Judge the room's readings after the last judged instant; return the alarms raised.

    Called where readings are stored, in their transaction (`readings_stored`). A reading at or
    before the last judged instant (a late one) changes no alarm."""
    judgement, _ = RoomJudgement.objects.select_for_update().get_or_create(room_id=room_id)
    room = Room.objects.get(pk=room_id)
    active: dict[str, Alarm] | None = None
    changed: dict[int, Alarm] = {}
    raised: list[Alarm] = []
    now = timezone.now()
    last: datetime | None = None
    for instant in _instants_after(room_id, judgement.judged_until):
        if active is None:  # read only once there is something to judge
            active = {
                a.kind: a for a in Alarm.objects.active().filter(room=room).select_for_update()
            }
        last = instant.at
        for kind, alarm in list(active.items()):
            if _clears(alarm, instant.mean, room):
                # A reading from the silent stretch, sent late, ends it when it was raised for.
                alarm.cleared_at = max(instant.at, alarm.opened_at)
                del active[kind]
                alarm.save(update_fields=["cleared_at", "readings", "peak"])
                changed.pop(alarm.pk, None)
                notifications_write(alarm=alarm, event=Event.CLEARED)
            elif alarm.kind != AlarmKind.NO_DATA:
                alarm.readings += instant.count
                alarm.peak = _further(alarm.kind, alarm.peak, instant)
                changed[alarm.pk] = alarm
        side = _side(instant.mean, room.min_c, room.max_c)
        if not side:
            judgement.run_kind, judgement.run_started_at = "", None
            judgement.run_peak, judgement.run_readings = None, 0
        elif judgement.run_kind != side:
            judgement.run_kind, judgement.run_started_at = side, instant.at
            judgement.run_peak = _further(side, None, instant)
            judgement.run_readings = instant.count
        else:
            judgement.run_readings += instant.count
            judgement.run_peak = _further(side, judgement.run_peak, instant)
        if (
            side
            and side not in active
            and room.alarms_enabled
            and judgement.run_started_at is not None
            and instant.at - judgement.run_started_at >= room.alarm_delay
        ):
            alarm = Alarm.objects.create(
                room=room,
                kind=side,
                opened_at=judgement.run_started_at,
                raised_at=now,
                announced_at=now,
                peak=judgement.run_peak,
                readings=judgement.run_readings,
            )
            active[side] = alarm
            raised.append(alarm)
            notifications_write(alarm=alarm, event=Event.RAISED)
    if last is None:
        return raised
    for alarm in changed.values():
        alarm.save(update_fields=["readings", "peak"])
    judgement.judged_until = last
    judgement.save()
    return raised


def rooms_silent(*, now: datetime, stale_after: timedelta) -> list[tuple[str, datetime]]:
    """Rooms with alarms on whose newest reading is older than `stale_after` and that have no
    active `no_data` alarm: (room id, newest reading's timestamp)."""
    newest = (
        Measurement.objects.filter(room=OuterRef("pk"))
        .order_by("-timestamp")
        .values("timestamp")[:1]
    )
    silent_alarm = Alarm.objects.active().filter(room=OuterRef("pk"), kind=AlarmKind.NO_DATA)
    rooms = (
        Room.objects.filter(alarms_enabled=True)
        .annotate(newest=Subquery(newest))
        .filter(newest__lt=now - stale_after)
        .filter(~Exists(silent_alarm))
        .values_list("pk", "newest")
    )
    return list(rooms)


def no_data_sweep(*, now: datetime, stale_after: timedelta) -> list[Alarm]:
    """Raise a `no_data` alarm for each room silent for longer than `stale_after` (the worker
    runs this every minute); its next reading clears it."""
    raised = []
    for room_id, newest in rooms_silent(now=now, stale_after=stale_after):
        with transaction.atomic():
            # Under the room's judgement lock: a reading being judged right now wins.
            RoomJudgement.objects.select_for_update().get_or_create(room_id=room_id)
            still_silent = not Measurement.objects.filter(
                room_id=room_id, timestamp__gt=newest
            ).exists()
            if (
                not still_silent
                or Alarm.objects.active().filter(room_id=room_id, kind=AlarmKind.NO_DATA).exists()
            ):
                continue
            alarm = Alarm.objects.create(
                room_id=room_id,
                kind=AlarmKind.NO_DATA,
                opened_at=newest + stale_after,
                raised_at=now,
                announced_at=now,
            )
            notifications_write(alarm=alarm, event=Event.RAISED)
            raised.append(alarm)
    return raised


def repeats_write(*, now: datetime, every: timedelta) -> int:
    """Announce again each active, unacknowledged alarm last announced `every` ago or more."""
    count = 0
    due = Alarm.objects.active().filter(acknowledged_at__isnull=True, announced_at__lte=now - every)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            alarm = (
                Alarm.objects.select_for_update()
                .filter(pk=pk, cleared_at__isnull=True, acknowledged_at__isnull=True)
                .first()
            )
            if alarm is None or alarm.announced_at > now - every:
                continue
            alarm.announced_at = now
            alarm.save(update_fields=["announced_at"])
            notifications_write(alarm=alarm, event=Event.REPEAT)
            count += 1
    return count


@transaction.atomic
def alarm_acknowledge(*, alarm: Alarm, username: str, comment: str) -> Alarm:
    """Acknowledge an alarm with a comment (it does not clear it): ValidationError for a blank
    comment, AlreadyAcknowledgedError when someone did before."""
    text = (comment or "").strip() if isinstance(comment, str) else ""
    if not text:
        raise ValidationError({"comment": ["Acknowledging an alarm needs a comment."]})
    locked = Alarm.objects.select_for_update().select_related("room").get(pk=alarm.pk)
    if locked.acknowledged_at is not None:
        raise AlreadyAcknowledgedError(locked)
    locked.acknowledged_at = timezone.now()
    locked.acknowledged_by = username
    locked.comment = text
    locked.save(update_fields=["acknowledged_at", "acknowledged_by", "comment"])
    notifications_write(alarm=locked, event=Event.ACKNOWLEDGED)
    return locked
