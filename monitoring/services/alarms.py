"""Alarms (DESIGN §4.8) besides those the readings raise and clear (`judging`): `no_data`
raised by the sweep, repeats while nobody acknowledges them, and acknowledging."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from measurements.models import Measurement, Room

from ..models import Alarm, AlarmKind, Event
from .judging import alarms_active_set, locked_state
from .outbox import notifications_write


class AlreadyAcknowledgedError(Exception):
    """The alarm was acknowledged before (by someone, with a comment)."""

    def __init__(self, alarm: Alarm) -> None:
        super().__init__(
            f"Alarm {alarm.pk} was acknowledged by {alarm.acknowledged_by or 'someone'} "
            f"at {alarm.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC."
        )
        self.alarm = alarm


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
            locked_state(room_id)
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
            alarms_active_set(room_id)
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
