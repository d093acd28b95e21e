"""Writes of notification targets: the API and the console check them the same way."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from config.batches import batched
from measurements.models import Room

from ..models import Event, NotificationTarget
from ..notify import masked, send, url_problem

UNSET: Any = object()
NAME_MAX_LENGTH = NotificationTarget._meta.get_field("name").max_length or 100


def _clean_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": ["A target needs a name."]})
    if len(name.strip()) > NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"At most {NAME_MAX_LENGTH} characters."]})
    return name.strip()


def _clean_url(url: object, *, current: NotificationTarget | None) -> str:
    # The masked URL an answer showed, sent back unchanged, keeps the stored one (and its
    # secrets): a client edits other fields without knowing them.
    if current is not None and url == masked(current.url):
        return current.url
    problem = url_problem(url)
    if problem is not None:
        raise ValidationError({"url": [problem]})
    assert isinstance(url, str)
    return url.strip()


def _clean_events(events: object) -> list[str]:
    if not isinstance(events, list | tuple) or not all(isinstance(e, str) for e in events):
        raise ValidationError({"events": ["A list of events."]})
    unknown = [e for e in events if e not in Event.values]
    if unknown:
        raise ValidationError(
            {
                "events": [
                    f"Unknown event(s) {', '.join(unknown)}; choose from {', '.join(Event.values)}."
                ]
            }
        )
    return [e for e in Event.values if e in events]


def _clean_rooms(room_ids: object) -> list[Room]:
    if not isinstance(room_ids, list | tuple) or not all(isinstance(r, str) for r in room_ids):
        raise ValidationError({"rooms": ["A list of room ids."]})
    found = {
        room.pk: room
        for batch in batched(dict.fromkeys(room_ids))
        for room in Room.objects.filter(pk__in=batch)
    }
    unknown = [r for r in dict.fromkeys(room_ids) if r not in found]
    if unknown:
        raise ValidationError({"rooms": [f"Unknown room(s): {', '.join(unknown[:20])}."]})
    return [found[r] for r in dict.fromkeys(room_ids)]


@transaction.atomic
def target_create(
    *,
    name: str,
    url: str,
    enabled: bool = True,
    rooms: Sequence[str] = (),
    events: Sequence[str] = (),
) -> NotificationTarget:
    """A new target; ValidationError keyed by field for a bad name, URL, room or event."""
    target = NotificationTarget(
        name=_clean_name(name),
        url=_clean_url(url, current=None),
        enabled=bool(enabled),
        events=_clean_events(list(events)),
    )
    chosen = _clean_rooms(list(rooms))
    _save(target)
    target.rooms.set(chosen)
    return target


@transaction.atomic
def target_update(
    *,
    target: NotificationTarget,
    name: Any = UNSET,
    url: Any = UNSET,
    enabled: Any = UNSET,
    rooms: Any = UNSET,
    events: Any = UNSET,
) -> NotificationTarget:
    """Change a target's fields; those left UNSET keep their value."""
    current = NotificationTarget.objects.select_for_update().get(pk=target.pk)
    if name is not UNSET:
        current.name = _clean_name(name)
    if url is not UNSET:
        current.url = _clean_url(url, current=current)
    if enabled is not UNSET:
        current.enabled = bool(enabled)
    if events is not UNSET:
        current.events = _clean_events(events)
    chosen = _clean_rooms(rooms) if rooms is not UNSET else None
    _save(current)
    if chosen is not None:
        current.rooms.set(chosen)
    return current


def _save(target: NotificationTarget) -> None:
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        # The unique name is the constraint a person can break; any other is not theirs.
        taken = NotificationTarget.objects.filter(name=target.name).exclude(pk=target.pk)
        if not taken.exists():
            raise
        raise ValidationError({"name": [f"A target named '{target.name}' exists."]}) from None


def target_send_test(*, target: NotificationTarget) -> str | None:
    """Send a test message to the target now (not through the outbox); None when it was
    handed over, else what went wrong (secrets masked)."""
    return send(
        target.url,
        title=f"Test notification to {target.name}",
        body="The Calibration & Measurement Service can reach this target.",
        payload={"notification_id": None, "event": "test", "target": target.name},
    )
