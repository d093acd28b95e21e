"""Writes of calibrations: the API, the admin and the commands call these."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .models import Calibration, CalibrationType
from .signals import calibration_corrected

# The fields a correction may change: what was recorded, not who entered it or when.
RECORDED_FIELDS = ("calibration_type", "value", "timestamp", "username")


def calibration_create(
    *,
    calibration_type: CalibrationType,
    value: float,
    username: str,
    timestamp: datetime | None = None,
    created_by: User | None = None,
) -> Calibration:
    """Record a calibration (one INSERT: atomic by itself, no BEGIN and COMMIT round trips)."""
    return Calibration.objects.create(
        calibration_type=calibration_type,
        value=value,
        username=username,
        timestamp=timestamp or timezone.now(),
        created_by=created_by,
    )


@transaction.atomic
def calibration_correct(*, calibration: Calibration, user: User | None, **changes: Any) -> set[str]:
    """Correct recorded fields of a calibration; return the names of those that changed.

    A field counts as changed only when its new value differs from the stored one, so a save
    that repeats what is stored writes nothing. Listeners of `calibration_corrected` update
    their copies in the same transaction.
    """
    unknown = set(changes) - set(RECORDED_FIELDS)
    if unknown:
        raise TypeError(f"Not a recorded field of a calibration: {', '.join(sorted(unknown))}.")
    stored = Calibration.objects.select_for_update().get(pk=calibration.pk)
    changed = {name for name, value in changes.items() if _differs(stored, name, value)}
    for name in changed:
        setattr(calibration, name, changes[name])
    if changed:
        calibration.save(update_fields=sorted(changed))
        calibration_corrected.send(Calibration, calibration=calibration, changed=changed)
    return changed


def _differs(stored: Calibration, name: str, value: Any) -> bool:
    # Foreign keys compare by id: no query for the stored type.
    if name == "calibration_type":
        return bool(stored.calibration_type_id != value.pk)
    return bool(getattr(stored, name) != value)
