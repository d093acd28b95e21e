"""Alarms (DESIGN §4.8) besides those the readings raise and clear (`judging`): `no_data`
raised by the sweep, repeats while nobody acknowledges them, and acknowledging."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from measurements.models import Measurement, Room

from ..models import Alarm, AlarmKind, Event
from .judging import alarms_active_set, locked_states
from .outbox import notifications_write, notifications_write_many


class AlreadyAcknowledgedError(Exception):
    """The alarm was acknowledged before (by someone, with a comment)."""

    def __init__(self, alarm: Alarm) -> None:
        super().__init__(
            f"Alarm {alarm.pk} was acknowledged by {alarm.acknowledged_by or 'someone'} "
            f"at {alarm.acknowledged_at:%Y-%m-%d %H:%M:%S} UTC."
        )
        self.alarm = alarm


def rooms_silent(
    *, now: datetime, stale_after: timedelta, room_ids: list[str] | None = None
) -> list[tuple[str, datetime]]:
    """Rooms with alarms on whose newest reading is older than `stale_after` and that have no
    active `no_data` alarm: (room id, newest reading's timestamp); only `room_ids` if given."""
    newest = (
        Measurement.objects.filter(room=OuterRef("pk"))
        .order_by("-timestamp")
        .values("timestamp")[:1]
    )
    silent_alarm = Alarm.objects.active().filter(room=OuterRef("pk"), kind=AlarmKind.NO_DATA)
    rooms = Room.objects.filter(alarms_enabled=True)
    if room_ids is not None:
        rooms = rooms.filter(pk__in=room_ids)
    found = (
        rooms.annotate(newest=Subquery(newest))
        .filter(newest__lt=now - stale_after)
        .filter(~Exists(silent_alarm))
        .order_by("pk")
        .values_list("pk", "newest")
    )
    return list(found)


# Rooms raised per transaction: their judgement rows stay locked (their posts wait) meanwhile.
SWEEP_BATCH = 200


def no_data_sweep(*, now: datetime, stale_after: timedelta) -> list[Alarm]:
    """Raise a `no_data` alarm for each room silent for longer than `stale_after` (the worker
    runs this every minute); its next reading clears it.

    Rooms go in batches, each one transaction of a constant number of statements: the rooms'
    judgement rows locked, the rooms found silent again under the locks (a reading being judged
    right now wins), their alarms and notifications written in bulk. Room by room, 1,000 rooms
    gone silent at once (a network down) took 50 s (bench/alarms.py)."""
    found = rooms_silent(now=now, stale_after=stale_after)
    raised: list[Alarm] = []
    for start in range(0, len(found), SWEEP_BATCH):
        seen = dict(found[start : start + SWEEP_BATCH])
        with transaction.atomic():
            locked_states(list(seen))
            still = [
                (room_id, newest)
                for room_id, newest in rooms_silent(
                    now=now, stale_after=stale_after, room_ids=list(seen)
                )
                if newest == seen[room_id]
            ]
            alarms = Alarm.objects.bulk_create(
                Alarm(
                    room_id=room_id,
                    kind=AlarmKind.NO_DATA,
                    opened_at=newest + stale_after,
                    raised_at=now,
                    announced_at=now,
                )
                for room_id, newest in still
            )
            alarms_active_set([alarm.room_id for alarm in alarms])
            notifications_write_many(alarms=alarms, event=Event.RAISED)
            raised += alarms
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
