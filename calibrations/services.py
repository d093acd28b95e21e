"""Writes of calibrations: the API, the admin and the commands call these."""

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from .models import Calibration, CalibrationType, tag_sort_key


def calibration_create(
    *,
    calibration_type: CalibrationType,
    value: float,
    username: str,
    timestamp: datetime | None = None,
    created_by: User | None = None,
    tags: Sequence[str] = (),
) -> Calibration:
    """Record a calibration, and add its first tags in the same transaction.

    The calibration comes back with `tag_names` (the tags it carries now, sorted) as
    `Calibration.objects.for_api()` would attach them, so callers need not read it back.
    """
    from tagging.services import tags_add

    fields = {
        "calibration_type": calibration_type,
        "value": value,
        "username": username,
        "timestamp": timestamp or timezone.now(),
        "created_by": created_by,
    }
    if not tags:
        # One INSERT is atomic by itself: no BEGIN and COMMIT round trips around it.
        calibration = Calibration.objects.create(**fields)
        calibration.tag_names = []
        return calibration
    with transaction.atomic():
        calibration = Calibration.objects.create(**fields)
        results = tags_add(calibration=calibration, names=tags, user=created_by)
    names = {result.assignment.tag.name for result in results}
    calibration.tag_names = sorted(names, key=tag_sort_key)
    return calibration
