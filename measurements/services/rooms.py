"""Writes of rooms: created by a first reading or in the console, renamed, given a range
(each change of the range a new version of its history)."""

import math
from datetime import timedelta
from typing import Any, Final

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from .. import clock
from ..durations import DurationError, parse_duration
from ..models import ROOM_RANGE_MESSAGE, RangeVersion, Room, validate_room_id
from ..units import ABSOLUTE_ZERO_C, MAX_CELSIUS


def room_get_or_create(*, room_id: str) -> Room:
    """The room with this id, created if new; safe against a concurrent first reading."""
    validate_room_id(room_id)
    # get_or_create retries the lookup when a concurrent insert wins the primary key.
    room, _ = Room.objects.get_or_create(room_id=room_id)
    return room


class _Unset:
    """Marks a field `room_update` was not asked to change (None means "clear it")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
ROOM_NAME_MAX_LENGTH = Room._meta.get_field("name").max_length or 200


def validate_room_range(min_c: object, max_c: object) -> None:
    """A room's acceptable range: both bounds None, or both finite numbers (°C) with
    min_c < max_c, from absolute zero to 1,000,000 °C; ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    for field, bound in (("min_c", min_c), ("max_c", max_c)):
        if bound is None:
            continue
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            errors[field] = ["Must be a number (°C) or null."]
        elif not math.isfinite(bound):
            errors[field] = ["Must be a finite number (°C)."]
        elif not ABSOLUTE_ZERO_C <= bound <= MAX_CELSIUS:
            errors[field] = [f"Must be from {ABSOLUTE_ZERO_C:g} °C to {MAX_CELSIUS:,.0f} °C."]
    if errors:
        raise ValidationError(errors)
    if (min_c is None) != (max_c is None):
        missing = "max_c" if max_c is None else "min_c"
        raise ValidationError(
            {missing: ["A range needs both bounds: set min_c and max_c together, or clear both."]}
        )
    if min_c is not None and max_c is not None and not min_c < max_c:  # type: ignore[operator]
        raise ValidationError(
            {"min_c": [f"The minimum ({min_c:g} °C) must be below the maximum ({max_c:g} °C)."]}
        )


def _validate_name(name: object) -> str:
    if not isinstance(name, str):
        raise ValidationError({"name": ["A room's name is a string."]})
    if len(name) > ROOM_NAME_MAX_LENGTH:
        raise ValidationError({"name": [f"At most {ROOM_NAME_MAX_LENGTH} characters."]})
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValidationError({"name": ["A room's name must not contain control characters."]})
    # A label for people: surrounding spaces are never meant (the admin's form strips them too).
    return name.strip()


REASON_REQUIRED = (
    "A change to a range the room has had needs a reason, kept with the range history "
    "(the first range needs none)."
)


def _validate_reason(reason: object) -> str:
    if not isinstance(reason, str):
        raise ValidationError({"reason": ["A reason is a string."]})
    return reason.strip()


def alarm_delay_of(delay: object) -> timedelta:
    """An alarm delay: a timedelta, or text in the API's duration formats; zero allowed,
    negative or unparsable refused (ValidationError keyed `alarm_delay`)."""
    if isinstance(delay, timedelta):
        parsed = delay
    else:
        try:
            parsed = parse_duration(delay, zero=True)
        except DurationError as exc:
            raise ValidationError({"alarm_delay": [str(exc)]}) from None
    if parsed < timedelta(0):
        raise ValidationError({"alarm_delay": ["An alarm delay cannot be negative."]})
    return parsed


def _validate_alarm_rules(delay: Any, deadband: Any, enabled: Any) -> dict[str, Any]:
    """The alarm rules given (not UNSET), checked: a delay in the API's duration formats (zero
    allowed), a deadband of at least 0 °C, `alarms_enabled` a boolean."""
    rules: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    if delay is not UNSET:
        try:
            rules["alarm_delay"] = alarm_delay_of(delay)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if deadband is not UNSET:
        if isinstance(deadband, bool) or not isinstance(deadband, int | float):
            errors["alarm_deadband_c"] = ["Must be a number of °C."]
        elif not math.isfinite(deadband) or not 0 <= deadband <= MAX_CELSIUS:
            errors["alarm_deadband_c"] = ["Must be a finite number of °C, at least 0."]
        else:
            rules["alarm_deadband_c"] = float(deadband)
    if enabled is not UNSET:
        if not isinstance(enabled, bool):
            errors["alarms_enabled"] = ["Must be true or false."]
        else:
            rules["alarms_enabled"] = enabled
    if errors:
        raise ValidationError(errors)
    return rules


@transaction.atomic
def room_update(
    *,
    room: Room | str,
    name: Any = UNSET,
    min_c: Any = UNSET,
    max_c: Any = UNSET,
    reason: Any = "",
    user: User | None = None,
    alarm_delay: Any = UNSET,
    alarm_deadband_c: Any = UNSET,
    alarms_enabled: Any = UNSET,
) -> Room:
    """Change a room's name, acceptable range and alarm rules; the range that results is
    checked as a whole (both bounds or neither, min below max, finite). Fields left UNSET keep
    their value; nothing changes when one is bad (ValidationError keyed by field).

    A range that differs from the room's writes a new RangeVersion (changed by `user`, now):
    the first needs no reason, every later one (a change, a clearing, a range set again after
    one was cleared) a non-blank `reason`. A range left as it is writes nothing.
    """
    rules = _validate_alarm_rules(alarm_delay, alarm_deadband_c, alarms_enabled)
    room_id = room.pk if isinstance(room, Room) else room
    # Locked, so two concurrent half-updates (one sets min_c, the other max_c) cannot combine
    # into a range neither checked, and two range changes number their versions in turn; the
    # check constraint and the unique version are the last word anyway.
    current = Room.objects.select_for_update().get(pk=room_id)
    fields: list[str] = []
    if name is not UNSET:
        current.name = _validate_name(name)
        fields.append("name")
    new_min = current.min_c if min_c is UNSET else min_c
    new_max = current.max_c if max_c is UNSET else max_c
    validate_room_range(new_min, new_max)
    why = _validate_reason(reason)
    new_range = (
        None if new_min is None else float(new_min),
        None if new_max is None else float(new_max),
    )
    version = None
    if new_range != (current.min_c, current.max_c):
        version = _next_version(current, new_range, reason=why, user=user)
        current.min_c, current.max_c = new_range
        fields += ["min_c", "max_c"]
    for field, value in rules.items():
        setattr(current, field, value)
        fields.append(field)
    if fields:
        try:
            with transaction.atomic():
                current.save(update_fields=fields)
                if version is not None:
                    version.save(force_insert=True)
        except IntegrityError:
            raise ValidationError({"min_c": [ROOM_RANGE_MESSAGE]}) from None
    if isinstance(room, Room):
        for field in ("name", "min_c", "max_c", *rules):
            setattr(room, field, getattr(current, field))
    return current


def _next_version(
    room: Room, new_range: tuple[float | None, float | None], *, reason: str, user: User | None
) -> RangeVersion:
    """The version a range change writes (not saved); a ValidationError keyed by `reason`
    when the room has had a range and no reason is given."""
    last = RangeVersion.objects.of_room(room).only("version").last()
    number = 1 if last is None else last.version + 1
    if (last is not None or room.min_c is not None) and not reason:
        raise ValidationError({"reason": [REASON_REQUIRED]})
    return RangeVersion(
        room=room,
        version=number,
        min_c=new_range[0],
        max_c=new_range[1],
        changed_at=clock.now(),
        changed_by=user.get_username() if user is not None else None,
        reason=reason,
    )


@transaction.atomic
def room_create(
    *,
    room_id: str,
    name: str = "",
    min_c: float | None = None,
    max_c: float | None = None,
    user: User | None = None,
) -> Room:
    """Register a room before its first reading (the admin's add form), with its range (its
    version 1, written by `room_update`)."""
    validate_room_id(room_id)
    clean_name = _validate_name(name)
    validate_room_range(min_c, max_c)
    try:
        with transaction.atomic():
            room = Room.objects.create(room_id=room_id, name=clean_name)
    except IntegrityError:
        raise ValidationError({"room_id": [f"Room '{room_id}' already exists."]}) from None
    if min_c is not None or max_c is not None:
        room_update(room=room, min_c=min_c, max_c=max_c, user=user)
    return room
