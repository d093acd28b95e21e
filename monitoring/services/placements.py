"""Writes of placements: the API, the admin and the demo data call these.

The database holds the rules (one open placement per instrument and per (room, sensor), and on
PostgreSQL periods that never overlap: `Placement.Meta.constraints`); these functions turn a
refusal into an error that names the placement in the way.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from calibrations.models import Instrument
from measurements.models import Room
from measurements.services import validate_sensor

from ..models import Placement


class PlacementConflict(Exception):
    """A placement would share time with `placement` (same instrument, or same room and
    sensor): the API answers 409 naming it."""

    def __init__(self, message: str, placement: Placement) -> None:
        super().__init__(message)
        self.message = message
        self.placement = placement


class PlacementAlreadyRemoved(Exception):
    """The placement was removed already (at `placement.removed_at`)."""

    def __init__(self, placement: Placement) -> None:
        removed = placement.removed_at.isoformat() if placement.removed_at else "?"
        super().__init__(f"Placement {placement.pk} was removed already, at {removed}.")
        self.placement = placement


def _conflict(other: Placement, placement: Placement) -> PlacementConflict:
    return PlacementConflict(other.in_the_way_message(of=placement), other)


@transaction.atomic
def placement_create(
    *, instrument: Instrument, room_id: str, sensor: str = "", placed_at: datetime | None = None
) -> Placement:
    """Place `instrument` as sensor `sensor` of room `room_id` from `placed_at` (default now).

    Closes nothing implicitly: an open placement of the instrument or of the (room, sensor), or
    any period of either sharing an instant with this one, is a PlacementConflict naming it. An
    unknown room, a bad sensor name, or an instrument retired by then, is a ValidationError.
    """
    at = placed_at or timezone.now()
    try:
        sensor = validate_sensor(sensor)
    except ValueError as exc:
        raise ValidationError({"sensor": str(exc)}) from None
    if instrument.retired_at is not None and instrument.retired_at <= at:
        retired = instrument.retired_at.isoformat()
        raise ValidationError(
            {"instrument_id": f"Instrument '{instrument.pk}' was retired at {retired}."}
        )
    if not Room.objects.filter(pk=room_id).exists():
        raise ValidationError({"room_id": f"Unknown room '{room_id}'."}, code="unknown")
    placement = Placement(instrument=instrument, room_id=room_id, sensor=sensor, placed_at=at)
    try:
        with transaction.atomic():
            placement.save(force_insert=True)
    except IntegrityError:
        # Lost to a placement that shares time with this one (the constraints decided; on
        # PostgreSQL they waited for it to commit, so it is visible now).
        other = Placement.objects.in_the_way_of(placement)
        if other is None:
            raise
        raise _conflict(other, placement) from None
    if connection.vendor != "postgresql":
        # No exclusion constraint here. The INSERT above took SQLite's write lock, which a
        # concurrent placement waits for, so this check sees every placement committed before.
        other = Placement.objects.in_the_way_of(placement)
        if other is not None:
            raise _conflict(other, placement)
    return placement


@transaction.atomic
def placement_remove(*, placement: Placement, removed_at: datetime | None = None) -> Placement:
    """End a placement at `removed_at` (default now): from then on its (room, sensor)'s readings
    are no longer the instrument's. Not before it began (ValidationError); not twice
    (PlacementAlreadyRemoved)."""
    at = removed_at or timezone.now()
    locked = Placement.objects.select_for_update().get(pk=placement.pk)
    if locked.removed_at is not None:
        raise PlacementAlreadyRemoved(locked)
    if at < locked.placed_at:
        raise ValidationError(
            {"removed_at": f"Not before the placement began ({locked.placed_at.isoformat()})."}
        )
    locked.removed_at = at
    locked.save(update_fields=["removed_at"])
    placement.removed_at = at
    return locked
