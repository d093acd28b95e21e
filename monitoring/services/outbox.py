"""The outbox: a Notification per enabled target that hears of an event, written in the
event's transaction and handed to the worker once that transaction commits."""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import transaction

from ..models import Alarm, DeliveryState, Event, Notification, NotificationTarget
from ..tasks import deliver_notification


def _hears(target: NotificationTarget, *, room_id: str, event: str) -> bool:
    """Whether `target` hears of `event` in room `room_id` (no rooms chosen: all)."""
    rooms = target.rooms.all()  # prefetched
    return event in target.events and (not rooms or any(r.pk == room_id for r in rooms))


def targets_for(*, room_id: str, event: str) -> list[NotificationTarget]:
    """The enabled targets that hear of `event` in room `room_id` (no rooms chosen: all)."""
    targets = NotificationTarget.objects.filter(enabled=True).prefetch_related("rooms")
    return [target for target in targets if _hears(target, room_id=room_id, event=event)]


def notifications_write(*, alarm: Alarm, event: Event) -> list[Notification]:
    """Announce `event` of `alarm` to every target that hears of it (call inside the event's
    transaction); the worker is handed them when it commits."""
    notifications = Notification.objects.bulk_create(
        Notification(alarm=alarm, event=event, target=target)
        for target in targets_for(room_id=alarm.room_id, event=event)
    )
    hand_over(n.pk for n in notifications)
    return notifications


def notifications_write_many(*, alarms: list[Alarm], event: Event) -> list[Notification]:
    """`notifications_write` for many alarms at once (the no-data sweep): the targets read
    once, the notifications written in one statement."""
    if not alarms:
        return []
    targets = list(NotificationTarget.objects.filter(enabled=True).prefetch_related("rooms"))
    notifications = Notification.objects.bulk_create(
        Notification(alarm=alarm, event=event, target=target)
        for alarm in alarms
        for target in targets
        if _hears(target, room_id=alarm.room_id, event=event)
    )
    hand_over(n.pk for n in notifications)
    return notifications


def hand_over(notification_ids: Iterable[int]) -> None:
    """Give the worker these notifications once the current transaction commits."""
    ids = list(notification_ids)
    if ids and settings.WORKER_ENABLED:
        # Robust: a broker that is away (Redis restarting) must not turn a committed ingest
        # into an error; the notifications wait in the outbox for the next sweep.
        transaction.on_commit(lambda: [deliver_notification(pk) for pk in ids], robust=True)


def deliveries_requeue(*, now: datetime) -> int:
    """Hand the worker again every pending notification that is due: a task lost with the
    broker (a restarted Redis, a killed worker) is found again here, and a second hand-over
    of one being sent is passed by (its row is locked)."""
    ids = list(Notification.objects.due(now).values_list("pk", flat=True)[:1000])
    for pk in ids:
        deliver_notification(pk)
    return len(ids)


def failed_notifications() -> "list[Notification]":
    """The notifications that gave up, newest first (the console's index shows them)."""
    return list(
        Notification.objects.filter(state=DeliveryState.FAILED)
        .select_related("target", "alarm")
        .order_by("-created_at")[:20]
    )
