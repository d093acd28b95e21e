"""The standing each instrument keeps (its newest calibration, its due date) is what its
calibrations say, whatever wrote them, in whatever order, and however many at once."""

import itertools
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrations.conf import due_soon
from calibrations.models import (
    LAST_INSTANT,
    STANDING_FIELDS,
    Calibration,
    Instrument,
    refresh_standing,
)
from calibrations.services import (
    NewCalibration,
    calibration_correct,
    calibration_create,
    calibrations_create_many,
    instrument_update,
)
from tests.conftest import Race
from tests.factories import CalibrationTypeFactory, InstrumentFactory

STANDING = STANDING_FIELDS
BASE = datetime(2026, 1, 1, tzinfo=UTC)
EXAMPLES = itertools.count()


def kept(ids: list[str]) -> dict[str, tuple[Any, ...]]:
    rows = Instrument.objects.filter(pk__in=ids).values_list("pk", *STANDING)
    return {row[0]: row[1:] for row in rows}


def recomputed(ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """The standing of `ids` computed afresh from their calibrations, left as it was found."""
    before = kept(ids)
    refresh_standing(Instrument, Calibration, ids)
    after = kept(ids)
    for pk, row in before.items():
        Instrument.objects.filter(pk=pk).update(**dict(zip(STANDING[:-1], row[:-1], strict=True)))
    return after


# An operation: create (instrument, day, in or out of tolerance), correct the n-th calibration
# (to another day, value or instrument), or change an instrument's interval.
operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.integers(0, 2), st.integers(-3, 30), st.booleans()),
        st.tuples(st.just("day"), st.integers(0, 20), st.integers(-3, 30)),
        st.tuples(st.just("value"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("move"), st.integers(0, 20), st.integers(0, 2)),
        st.tuples(st.just("interval"), st.integers(0, 2), st.sampled_from([None, 1, 40, 36500])),
        st.tuples(st.just("many"), st.integers(0, 2), st.integers(-3, 30)),
    ),
    min_size=1,
    max_size=14,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_the_kept_standing_is_the_one_computed_from_the_calibrations(
    steps: list[tuple[Any, ...]],
) -> None:
    # Each example in the same test transaction: its own type and instruments.
    example = next(EXAMPLES)
    check = CalibrationTypeFactory(name=f"standing-{example}", lower_limit=-1.0, upper_limit=1.0)
    ids = [
        InstrumentFactory(instrument_id=f"TH-{example}-{n}", calibration_interval_days=40).pk
        for n in (0, 1, 2)
    ]
    done: list[Calibration] = []
    for step in steps:
        match step:
            case ("create", n, day, good):
                done.append(
                    calibration_create(
                        calibration_type=check,
                        value=0.5 if good else 5.0,
                        username="a",
                        # Some days twice: ties on the timestamp go to the one recorded last.
                        timestamp=BASE + timedelta(days=day),
                        instrument_id=ids[n],
                    )
                )
            case ("day", k, day) if done:
                target = done[k % len(done)]
                calibration_correct(
                    calibration=target,
                    user=None,
                    reason="date",
                    timestamp=BASE + timedelta(days=day),
                )
            case ("value", k, good) if done:
                target = done[k % len(done)]
                calibration_correct(
                    calibration=target, user=None, reason="v", value=0.5 if good else 5.0
                )
            case ("move", k, n) if done:
                target = done[k % len(done)]
                calibration_correct(
                    calibration=target,
                    user=None,
                    reason="i",
                    instrument=Instrument.objects.get(pk=ids[n]),
                )
            case ("interval", n, days):
                instrument_update(
                    instrument=Instrument.objects.get(pk=ids[n]), calibration_interval_days=days
                )
            case ("many", n, day):
                done += calibrations_create_many(
                    [
                        NewCalibration(
                            check, 0.5, "a", BASE + timedelta(days=day), instrument_id=ids[n]
                        ),
                        NewCalibration(
                            check, 5.0, "a", BASE + timedelta(days=day), instrument_id=ids[n]
                        ),
                    ]
                )
    assert kept(ids) == recomputed(ids)


@pytest.mark.django_db
def test_the_register_agrees_with_the_status_as_of_now_when_nothing_is_dated_ahead() -> None:
    check = CalibrationTypeFactory(name="standing", lower_limit=-1.0, upper_limit=1.0)
    now = timezone.now()
    for n, (days_ago, value, interval) in enumerate(
        [(400, 0.1, 365), (350, 0.1, 365), (10, 3.0, 365), (5, 0.1, None), (100, 0.1, 200)]
    ):
        instrument = InstrumentFactory(instrument_id=f"TH-{n}", calibration_interval_days=interval)
        calibration_create(
            calibration_type=check,
            value=value,
            username="a",
            timestamp=now - timedelta(days=days_ago),
            instrument_id=instrument.pk,
        )
    InstrumentFactory(instrument_id="TH-never")
    InstrumentFactory(instrument_id="TH-gone", retired_at=now - timedelta(days=1))
    fields = ("pk", "status", "due_at", "last_calibration_id")
    stored = set(Instrument.objects.with_status(now=now, due_soon=due_soon()).values_list(*fields))
    as_of = set(
        Instrument.objects.with_status_as_of(at=now, due_soon=due_soon()).values_list(*fields)
    )
    assert stored == as_of
    statuses = {pk: status for pk, status, *_ in stored}
    assert statuses == {
        "TH-0": "overdue",
        "TH-1": "due_soon",
        "TH-2": "out_of_tolerance",
        "TH-3": "ok",
        "TH-4": "ok",
        "TH-never": "never_calibrated",
        "TH-gone": "retired",
    }


@pytest.mark.django_db
def test_a_due_date_past_the_last_instant_there_is_sorts_last_with_none() -> None:
    check = CalibrationTypeFactory()
    far = InstrumentFactory(instrument_id="TH-far", calibration_interval_days=36500)
    calibration_create(
        calibration_type=check,
        value=0.0,
        username="a",
        timestamp=LAST_INSTANT - timedelta(days=2),
        instrument_id=far.pk,
    )
    row = Instrument.objects.values("next_due_at", "due_sort").get(pk="TH-far")
    assert row == {"next_due_at": None, "due_sort": LAST_INSTANT}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_calibrations_of_one_instrument_written_at_once_leave_its_standing_true(
    race: Race,
) -> None:
    check = CalibrationTypeFactory(name="standing", lower_limit=-1.0, upper_limit=1.0)
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=30)
    for round_ in range(4):
        # Eight creates at once, the newest not always the last to commit, one of them out of
        # tolerance, and a correction of an earlier one racing them.
        earlier = calibration_create(
            calibration_type=check,
            value=0.1,
            username="a",
            timestamp=BASE + timedelta(days=100 * round_),
            instrument_id=instrument.pk,
        )
        calls = [
            partial(
                calibration_create,
                calibration_type=check,
                value=5.0 if day == 3 else 0.1,
                username="a",
                timestamp=BASE + timedelta(days=100 * round_ + day),
                instrument_id=instrument.pk,
            )
            for day in (5, 1, 7, 3, 2, 6, 4, 8)
        ]
        calls.append(
            partial(
                calibration_correct,
                calibration=earlier,
                user=None,
                reason="moved",
                timestamp=BASE + timedelta(days=100 * round_ + 9),
            )
        )
        race(calls)
        assert kept(["TH-1"]) == recomputed(["TH-1"])
        standing = Instrument.objects.with_status(now=BASE, due_soon=due_soon()).get()
        assert standing.last_calibration_timestamp == BASE + timedelta(days=100 * round_ + 9)  # type: ignore[attr-defined]
