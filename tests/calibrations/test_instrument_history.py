"""An instrument's status over time: the spans it was overdue or out of tolerance (what the
console marks on a room's readings) agree with its status at every instant, as the database
computes it for the register."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from calibrations.models import Instrument, InstrumentStatus
from calibrations.selectors import flagged_periods
from calibrations.services import calibration_create
from tests.factories import CalibrationTypeFactory, InstrumentFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 1, 1, tzinfo=UTC)
FLAGGED = {InstrumentStatus.OVERDUE, InstrumentStatus.OUT_OF_TOLERANCE}


def test_flagged_spans_agree_with_the_status_at_every_instant() -> None:
    rng = random.Random(25)
    check = CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)
    plain = CalibrationTypeFactory(name="gain")
    for n in range(8):
        instrument_id = f"TH-{n}"
        InstrumentFactory(
            instrument_id=instrument_id, calibration_interval_days=rng.choice([None, 10, 30])
        )
        at = T0
        for _ in range(rng.randint(0, 6)):
            at += timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 23))
            calibration_create(
                calibration_type=rng.choice([check, check, plain]),
                value=rng.choice([0.1, 0.2, 0.9, -0.8]),
                username="a",
                timestamp=at,
                instrument_id=instrument_id,
            )
    # Retired after its calibrations were recorded (which a retired instrument refuses).
    Instrument.objects.filter(pk="TH-3").update(retired_at=T0 + timedelta(days=150))
    until = T0 + timedelta(days=260)
    periods = flagged_periods([f"TH-{n}" for n in range(8)], until=until)
    instants = [T0 + timedelta(days=d, hours=h) for d in range(0, 260, 3) for h in (0, 13)]
    for instant in instants:
        statuses = dict(
            Instrument.objects.with_status_as_of(
                at=instant, due_soon=timedelta(days=5)
            ).values_list("pk", "status")
        )
        for instrument_id, status in statuses.items():
            covered = [p for p in periods[instrument_id] if p.covers(instant)]
            assert (status in FLAGGED) == bool(covered), (instrument_id, instant, status)
            if covered:
                assert covered[0].status == status


def test_an_overdue_span_begins_after_the_due_date_and_ends_at_the_next_calibration() -> None:
    check = CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)
    InstrumentFactory(instrument_id="TH-1", calibration_interval_days=10)
    first = calibration_create(
        calibration_type=check, value=0.1, username="a", timestamp=T0, instrument_id="TH-1"
    )
    calibration_create(
        calibration_type=check,
        value=0.1,
        username="a",
        timestamp=T0 + timedelta(days=15),
        instrument_id="TH-1",
    )
    [span] = flagged_periods(["TH-1"], until=T0 + timedelta(days=20))["TH-1"]
    assert (span.status, span.start, span.end, span.calibration_id) == (
        InstrumentStatus.OVERDUE,
        T0 + timedelta(days=10),
        T0 + timedelta(days=15),
        first.pk,
    )
    assert not span.covers(T0 + timedelta(days=10))  # due that instant, not yet overdue
    assert span.covers(T0 + timedelta(days=10, microseconds=1))
    assert not span.covers(T0 + timedelta(days=15))
    assert flagged_periods([], until=T0) == {}
