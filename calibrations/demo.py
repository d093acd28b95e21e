"""Demo calibrations and their tag history for `seed_demo`: deterministic, so re-running adds
nothing."""

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from tagging.models import Tag, TagAssignment, tag_key

from .models import Calibration, CalibrationType
from .services import NewCalibration, calibrations_create_many

DEMO_NAMESPACE = uuid.UUID("6f1c2b8e-4a52-4a8e-9d3c-1c0de5eed001")
DEMO_USERS = ["alice", "bob", "carol", "dave", "erin"]
DEMO_TAGS = ["baseline-2025", "current-state", "needs-review", "reference", "archived-2024"]
TYPICAL_VALUES = {
    "gain": (1.0, 0.05),
    "offset": (0.0, 0.02),
    "pressure": (101325.0, 250.0),
    "temperature": (21.0, 1.5),
}


def seed_calibrations(count: int, progress: Callable[[int], None] | None = None) -> int:
    """Create up to `count` demo calibrations with tag history; return how many were new."""
    rng = random.Random(2025)
    types = list(CalibrationType.objects.order_by("name"))
    now = timezone.now().replace(microsecond=0)
    # Created before the oldest period that uses them (calibrations go back a year).
    tags_born = now - timedelta(days=367)
    tags = {
        name: Tag.objects.get_or_create(
            name_key=tag_key(name), defaults={"name": name, "created_at": tags_born}
        )[0]
        for name in DEMO_TAGS
    }
    created = 0
    batch = 500
    for start in range(0, count, batch):
        ids = [uuid.uuid5(DEMO_NAMESPACE, f"calibration-{i}") for i in range(start, start + batch)]
        # Which of this batch exist already: one query of a batch's ids, never all of them
        # (PostgreSQL takes at most 65,535 parameters in a statement).
        existing = set(Calibration.objects.filter(pk__in=ids).values_list("pk", flat=True))
        calibrations: list[Calibration] = []
        assignments: list[TagAssignment] = []
        for i in range(start, min(start + batch, count)):
            ctype = types[i % len(types)]
            mean, spread = TYPICAL_VALUES.get(ctype.name, (1.0, 0.1))
            done_at = now - timedelta(days=rng.uniform(1, 365), seconds=rng.randint(0, 86399))
            calibration = Calibration(
                id=ids[i - start],
                calibration_type=ctype,
                value=round(rng.gauss(mean, spread), 6),
                timestamp=done_at,
                username=DEMO_USERS[i % len(DEMO_USERS)],
                created_at=done_at,
            )
            assignments.extend(_history(rng, calibration, tags, now))
            if calibration.pk not in existing:
                calibrations.append(calibration)
        with transaction.atomic():
            # Through the service, so each demo calibration has its version 1 (bulk INSERTs).
            calibrations_create_many(
                NewCalibration(
                    calibration_type=c.calibration_type,
                    value=c.value,
                    username=c.username,
                    timestamp=c.timestamp,
                    calibration_id=c.pk,
                    created_at=c.created_at,
                )
                for c in calibrations
            )
            new_ids = {c.pk for c in calibrations}
            TagAssignment.objects.bulk_create(
                [a for a in assignments if a.calibration_id in new_ids]
            )
        created += len(calibrations)
        if progress:
            progress(min(start + batch, count))
    return created


def _history(
    rng: random.Random, calibration: Calibration, tags: dict[str, Tag], now: datetime
) -> list[TagAssignment]:
    """A past of adds and removes: some tags still on, some taken off, one put back."""
    periods = []
    for name in rng.sample(DEMO_TAGS, k=rng.randint(0, 3)):
        added = calibration.timestamp + timedelta(hours=rng.uniform(1, 48))
        removed = None
        if rng.random() < 0.4:
            removed = added + timedelta(days=rng.uniform(1, 60))
            if removed >= now:
                removed = None
        periods.append(
            TagAssignment(
                calibration=calibration,
                tag=tags[name],
                added_at=added,
                removed_at=removed,
                calibration_timestamp=calibration.timestamp,
            )
        )
        if removed is not None and rng.random() < 0.3:
            periods.append(
                TagAssignment(
                    calibration=calibration,
                    tag=tags[name],
                    added_at=removed + timedelta(days=1),
                    calibration_timestamp=calibration.timestamp,
                )
            )
    return [p for p in periods if p.added_at < now]
