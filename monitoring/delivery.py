"""Delivering the outbox: claim one pending notification, send it through Apprise, record the
outcome. A claimed row stays locked while it is sent, so two workers never send one
notification at the same time (`SKIP LOCKED`: the second passes it by)."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from calibrations.conf import due_soon
from calibrations.models import Instrument, InstrumentStatus
from config.api.fields import utc_iso
from measurements.selectors import range_in_force, range_versions_covering

from .conf import retry_delay
from .models import Alarm, AlarmKind, DeliveryState, Event, Notification
from .notify import masked, send

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt did; `retry_in` when the notification waits for another."""

    state: str
    retry_in: timedelta | None = None


SKIPPED = Outcome("skipped")


def deliver(notification_id: int, *, now: datetime | None = None) -> Outcome:
    """Try to send one notification if it is pending and due (else do nothing)."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("target", "alarm__room", "instrument")
            .filter(pk=notification_id, state=DeliveryState.PENDING)
            .first()
        )
        moment = now or timezone.now()
        if notification is None or notification.next_attempt_at > moment:
            return SKIPPED
        target = notification.target
        title, body, payload = message(notification)
        error = send(target.url, title=title, body=body, payload=payload)
        notification.attempts += 1
        retry_in = None
        if error is None:
            notification.state = DeliveryState.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
        else:
            notification.last_error = error
            if notification.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                notification.state = DeliveryState.FAILED
            else:
                retry_in = retry_delay(notification.attempts)
                notification.next_attempt_at = moment + retry_in
            logger.warning(
                "notification %s to %s (%s), attempt %s: %s",
                notification.pk,
                target.name,
                masked(target.url),
                notification.attempts,
                error,
            )
        notification.save(
            update_fields=["state", "attempts", "last_error", "sent_at", "next_attempt_at"]
        )
        return Outcome(notification.state, retry_in)


def room_link(room_id: str) -> str:
    """The room's page in the console, as an absolute URL (notifications leave the site)."""
    return settings.SITE_URL + reverse("admin:measurements_room_change", args=[room_id])


def _range(alarm: Alarm) -> str:
    """The range in force when the alarm's run began (its judge), in words."""
    versions = range_versions_covering(alarm.room_id, alarm.opened_at, alarm.opened_at)
    version = range_in_force(versions, alarm.opened_at)
    low, high = (None, None) if version is None else (version.min_c, version.max_c)
    if low is None or high is None:
        return "no range set"
    return f"range {low:g}–{high:g} °C"


def message(notification: Notification) -> tuple[str, str, dict[str, Any]]:
    """The title and text a person reads, and the JSON a webhook receives."""
    alarm = notification.alarm
    if alarm is None:
        return _due_message(notification)
    room = alarm.room
    where = f"{room.room_id} ({room.name})" if room.name else room.room_id
    if alarm.kind == AlarmKind.NO_DATA:
        what = f"no reading since {utc_iso(alarm.opened_at)}"
    else:
        side = "above" if alarm.kind == AlarmKind.HIGH else "below"
        what = (
            f"{side} its {_range(alarm)}, peak {alarm.peak:g} °C since {utc_iso(alarm.opened_at)}"
        )
    headline = {
        Event.RAISED: "Alarm",
        Event.REPEAT: "Still in alarm",
        Event.CLEARED: "Cleared",
        Event.ACKNOWLEDGED: "Acknowledged",
    }.get(Event(notification.event), str(notification.event))
    title = f"{headline}: {where} {alarm.get_kind_display().lower()}"
    lines = [f"{where}: {what}.", f"Raised at {utc_iso(alarm.raised_at)} (alarm #{alarm.pk})."]
    if alarm.cleared_at is not None:
        lines.append(f"Cleared by the reading of {utc_iso(alarm.cleared_at)}.")
    if alarm.acknowledged_at is not None:
        lines.append(
            f"Acknowledged by {alarm.acknowledged_by} at {utc_iso(alarm.acknowledged_at)}: "
            f"{alarm.comment}"
        )
    link = room_link(room.room_id)
    lines.append(link)
    payload = {
        "notification_id": notification.pk,
        "event": notification.event,
        "alarm": alarm_json(alarm),
        "room": {"room_id": room.room_id, "name": room.name},
        "link": link,
    }
    return title, "\n".join(lines), payload


def alarm_json(alarm: Alarm) -> dict[str, Any]:
    """An alarm as the API shows it (without its notifications)."""

    def instant(moment: datetime | None) -> str | None:
        return None if moment is None else utc_iso(moment)

    return {
        "id": alarm.pk,
        "room_id": alarm.room_id,
        "kind": alarm.kind,
        "opened_at": instant(alarm.opened_at),
        "raised_at": instant(alarm.raised_at),
        "cleared_at": instant(alarm.cleared_at),
        "peak": alarm.peak,
        "readings": alarm.readings,
        "acknowledged_at": instant(alarm.acknowledged_at),
        "acknowledged_by": alarm.acknowledged_by or None,
        "comment": alarm.comment,
    }


def _due_message(notification: Notification) -> tuple[str, str, dict[str, Any]]:
    """A calibration due reminder: the instrument, its status and due date now, and its page."""
    instrument = notification.instrument
    assert instrument is not None
    now = timezone.now()
    current: Any = Instrument.objects.with_status(now=now, due_soon=due_soon()).get(
        pk=instrument.pk
    )
    status = InstrumentStatus(current.status)
    due = "" if current.due_at is None else f", due {utc_iso(current.due_at)}"
    title = f"Calibration: {instrument.instrument_id} ({instrument.name}) is {status.label.lower()}"
    link = settings.SITE_URL + reverse("admin:calibrations_instrument_change", args=[instrument.pk])
    body = f"{instrument.instrument_id} ({instrument.name}): {status.label.lower()}{due}.\n{link}"
    payload = {
        "notification_id": notification.pk,
        "event": notification.event,
        "instrument": {
            "instrument_id": instrument.instrument_id,
            "name": instrument.name,
            "status": current.status,
            "due_at": None if current.due_at is None else utc_iso(current.due_at),
        },
        "link": link,
    }
    return title, body, payload
