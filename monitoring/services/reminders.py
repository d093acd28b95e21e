"""Calibration due reminders (DESIGN §4.8): once a day, a `due` notification for each instrument
that turned `due_soon`, `overdue` or `out_of_tolerance` since its last reminder."""

from datetime import datetime, timedelta

from django.db import transaction

from calibrations.models import Instrument
from calibrations.selectors import instruments_needing_attention

from ..models import DueReminder, Event, Notification, NotificationTarget, Placement
from .outbox import hand_over


def _targets_for(
    instrument: Instrument, targets: list[NotificationTarget]
) -> list[NotificationTarget]:
    """The targets that hear of this instrument: those for every room, and those for a room it
    is placed in now."""
    rooms = set(
        Placement.objects.open().filter(instrument=instrument).values_list("room_id", flat=True)
    )
    return [
        target
        for target in targets
        if not target.rooms.all() or any(room.pk in rooms for room in target.rooms.all())
    ]


@transaction.atomic
def due_reminders_write(*, now: datetime, within: timedelta) -> int:
    """Write the reminders that are due (the worker runs this once a day); how many
    notifications were written. An instrument reminded of its status hears nothing more until
    its status changes: back to `ok` (its reminder forgotten), or on to another."""
    needing_now = instruments_needing_attention(at=now, within=within)
    # As subqueries, not lists of ids: a register may have thousands needing attention.
    DueReminder.objects.exclude(instrument_id__in=needing_now.values("pk")).delete()
    reminded = dict(DueReminder.objects.values_list("instrument_id", "status"))
    needing = {i.pk: i for i in needing_now}
    turned = [i for pk, i in needing.items() if reminded.get(pk) != i.status]  # type: ignore[attr-defined]
    if not turned:
        return 0
    targets = [
        t
        for t in NotificationTarget.objects.filter(enabled=True).prefetch_related("rooms")
        if Event.DUE in t.events
    ]
    notifications = Notification.objects.bulk_create(
        Notification(instrument=instrument, event=Event.DUE, target=target)
        for instrument in turned
        for target in _targets_for(instrument, targets)
    )
    for instrument in turned:
        DueReminder.objects.update_or_create(
            instrument=instrument,
            defaults={"status": instrument.status, "reminded_at": now},  # type: ignore[attr-defined]
        )
    hand_over(n.pk for n in notifications)
    return len(notifications)
