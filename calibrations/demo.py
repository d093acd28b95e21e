"""Demo calibrations and their tag history for `seed_demo`: deterministic, so re-running adds
nothing."""

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tagging.models import Tag, TagAssignment, tag_key

from .models import Calibration, CalibrationType, Instrument
from .services import (
    NewCalibration,
    calibration_create,
    calibrations_create_many,
    instrument_create,
)

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


# The instrument register's demo: a thermometer per demo room (placed as its sensor by
# `monitoring.demo`) and a reference, each with a story the console shows. Calibrations are
# dated back from today by these days; each is done once (its id is fixed).
DEMO_CHECK_TYPE = "thermometer-check"
DEMO_CHECK_LIMITS = (-0.5, 0.5)
DEMO_INSTRUMENTS: dict[str, dict[str, Any]] = {
    # id: fields, and the calibrations (days ago, error found in °C)
    "TH-LAB1": {
        "name": "Calibration lab thermometer",
        "kind": "sensor",
        "serial_number": "PT100-2231",
        "interval": 365,
        "calibrations": [(400, 0.05), (120, 0.08)],
    },
    "TH-LAB2": {  # its yearly calibration is three weeks late: overdue
        "name": "Optics lab thermometer",
        "kind": "sensor",
        "serial_number": "PT100-2232",
        "interval": 180,
        "calibrations": [(380, 0.04), (201, 0.06)],
    },
    "TH-CLEAN": {  # found 0.6 °C off two days ago: out of tolerance, its week's readings in doubt
        "name": "Clean room probe",
        "kind": "sensor",
        "serial_number": "NTC-0917",
        "interval": 365,
        "calibrations": [(300, 0.1), (2, 0.6)],
    },
    "TH-SERVER": {  # due in a fortnight
        "name": "Server room logger",
        "kind": "sensor",
        "serial_number": "LOG-5510",
        "interval": 90,
        "calibrations": [(76, -0.12)],
    },
    "TH-COLD": {  # new, never calibrated yet
        "name": "Cold store thermometer",
        "kind": "sensor",
        "serial_number": "",
        "interval": 365,
        "calibrations": [],
    },
    "REF-01": {
        "name": "Reference thermometer (SPRT)",
        "kind": "reference",
        "serial_number": "SPRT-5681",
        "interval": 730,
        "calibrations": [(150, 0.002)],
    },
}


def seed_instruments() -> int:
    """The demo instruments and their calibrations, where missing; how many instruments were
    new. A type `thermometer-check` (error against the reference, ±0.5 °C) judges them."""
    check, _ = CalibrationType.objects.get_or_create(
        name=DEMO_CHECK_TYPE,
        defaults={
            "unit": "°C",
            "description": "A thermometer's error against the lab's reference.",
            "lower_limit": DEMO_CHECK_LIMITS[0],
            "upper_limit": DEMO_CHECK_LIMITS[1],
        },
    )
    now = timezone.now().replace(microsecond=0)
    created = 0
    for instrument_id, spec in DEMO_INSTRUMENTS.items():
        if not Instrument.objects.filter(pk=instrument_id).exists():
            instrument_create(
                instrument_id=instrument_id,
                name=spec["name"],
                kind=spec["kind"],
                serial_number=spec["serial_number"],
                calibration_interval_days=spec["interval"],
            )
            created += 1
        wanted = {
            uuid.uuid5(DEMO_NAMESPACE, f"{instrument_id}-{days}"): (days, error)
            for days, error in spec["calibrations"]
        }
        existing = set(Calibration.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        for pk, (days, error) in wanted.items():
            if pk not in existing:
                calibration_create(
                    calibration_type=check,
                    value=error,
                    username=DEMO_USERS[days % len(DEMO_USERS)],
                    timestamp=now - timedelta(days=days, hours=3),
                    calibration_id=pk,
                    instrument_id=instrument_id,
                )
    return created
