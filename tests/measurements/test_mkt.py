"""`method=mkt` on the average and series routes: the mean kinetic temperature of USP <1160>,
weighted by time exactly as `time_weighted` (DESIGN §4.5), against hand-computed figures, and
never below the time-weighted average (a property checked on random series).

The clock is frozen at 12:00; `PT1H` is the window [11:00, 12:00].
"""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from measurements.models import Measurement
from measurements.selectors import mkt_summary, time_weighted_summary
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

H11 = datetime(2025, 6, 1, 11, tzinfo=UTC)
AVERAGE = "/api/measurements/lab-1/average/PT1H"


def _readings(*readings: tuple[int, float] | tuple[int, float, str]) -> None:
    """Readings of lab-1 at `minutes` after 11:00 (negative: before the window)."""
    room = RoomFactory(room_id="lab-1")
    for minutes, value, *sensor in readings:
        MeasurementFactory(
            room=room,
            timestamp=H11 + timedelta(minutes=minutes),
            value=value,
            sensor=sensor[0] if sensor else "",
        )


def _mkt(weights_values: list[tuple[float, float]], h_over_r: float = 10_000.0) -> float:
    """The definition, by hand: (ΔH/R) / −ln(Σ wᵢ·exp(−(ΔH/R)/Tᵢ) / Σ wᵢ), in °C."""
    total = sum(w for w, _ in weights_values)
    terms = sum(w * math.exp(-h_over_r / (v + 273.15)) for w, v in weights_values)
    return h_over_r / -math.log(terms / total) - 273.15


def _average(client: APIClient, **query: str) -> dict[str, object]:
    response = client.get(AVERAGE, {"method": "mkt", **query})
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    return body


def test_mkt_weighs_each_reading_by_the_time_it_holds(
    reader_client: APIClient, now: datetime
) -> None:
    # 20 holds 11:15–11:45 (30 min), 30 holds 11:45–12:00 (15 min).
    _readings((15, 20.0), (45, 30.0))
    body = _average(reader_client)
    assert body["average"] == pytest.approx(_mkt([(30, 20.0), (15, 30.0)]), rel=1e-12)
    assert body["average"] == pytest.approx(24.60, abs=0.01)  # above the 23.33 weighted mean
    assert (body["min"], body["max"], body["count"]) == (20.0, 30.0, 2)
    assert (body["method"], body["activation_energy"]) == ("mkt", 83.144)
    assert list(body)[-2:] == ["method", "activation_energy"]


def test_the_reading_before_the_window_covers_its_start_and_one_instant_is_its_mean(
    reader_client: APIClient, now: datetime
) -> None:
    # 10 (from 10:30) covers 11:00–11:15; at 11:15 two sensors, mean 20, until 11:45; 30 after.
    _readings((-30, 10.0), (15, 16.0, "a"), (15, 24.0, "b"), (45, 30.0))
    body = _average(reader_client)
    expected = _mkt([(15, 10.0), (30, 20.0), (15, 30.0)])
    assert body["average"] == pytest.approx(expected, rel=1e-12)
    assert (body["min"], body["max"], body["count"]) == (16.0, 30.0, 3)


def test_the_activation_energy_sets_delta_h_over_r(reader_client: APIClient, now: datetime) -> None:
    _readings((0, 5.0), (20, 25.0), (40, 40.0))
    body = _average(reader_client, activation_energy="120.5")
    weights = [(20, 5.0), (20, 25.0), (20, 40.0)]
    assert body["average"] == pytest.approx(_mkt(weights, 120_500 / 8.3144), rel=1e-12)
    assert body["activation_energy"] == 120.5
    # A higher activation energy weighs warm readings more: the MKT rises with it.
    assert body["average"] > _average(reader_client)["average"]  # type: ignore[operator]


def test_mkt_is_converted_to_the_asked_unit(reader_client: APIClient, now: datetime) -> None:
    _readings((15, 20.0), (45, 30.0))
    body = _average(reader_client, unit="K")
    assert body["average"] == pytest.approx(_mkt([(30, 20.0), (15, 30.0)]) + 273.15)
    assert body["unit"] == "K"


def test_mkt_of_a_constant_series_is_its_value_and_without_time_the_readings_mean(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((-10, 21.25), (10, 21.25), (30, 21.25))
    assert _average(reader_client)["average"] == 21.25
    Measurement.objects.all().delete()
    # Only readings at the window's very end, none before: no time covered.
    _readings((60, 20.0, "a"), (60, 22.0, "b"))
    body = _average(reader_client)
    assert (body["average"], body["count"]) == (21.0, 2)


def test_no_reading_in_the_window_but_one_before_it_is_that_reading(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((-30, 18.5))
    body = _average(reader_client)
    assert (body["average"], body["min"], body["max"], body["count"]) == (18.5, None, None, 0)


def test_no_reading_at_all_in_or_before_the_window_is_count_zero_and_nulls(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((90, 18.5))  # after the window
    body = _average(reader_client)
    assert (body["average"], body["min"], body["max"], body["count"]) == (None, None, None, 0)


def test_readings_at_absolute_zero_and_a_cold_room_at_the_highest_energy_stay_finite(
    reader_client: APIClient, now: datetime
) -> None:
    # exp(−(ΔH/R)/T) is far below the smallest double here: the statement must not fail.
    _readings((0, -200.0), (30, -190.0))
    body = _average(reader_client, activation_energy="1000")
    assert body["average"] == pytest.approx(
        _mkt_stable([(30, -200.0), (30, -190.0)], 1_000_000 / 8.3144), rel=1e-9
    )
    Measurement.objects.all().delete()
    _readings((0, -273.15), (30, -273.15))
    assert _average(reader_client)["average"] == -273.15


def _mkt_stable(weights_values: list[tuple[float, float]], h_over_r: float) -> float:
    top = max(v for _, v in weights_values) + 273.15
    total = sum(w for w, _ in weights_values)
    terms = sum(w * math.exp(h_over_r * (1 / top - 1 / (v + 273.15))) for w, v in weights_values)
    return 1 / (1 / top - math.log(terms / total) / h_over_r) - 273.15


def test_each_series_bucket_has_its_own_mkt(reader_client: APIClient) -> None:
    # 09:30 → 10; 10:15 → 20; 10:45 → 30; 12:00 → 50 (as the time-weighted series' test).
    _readings((-90, 10.0), (-45, 20.0), (-15, 30.0), (60, 50.0))
    response = reader_client.get(
        "/api/measurements/lab-1/series",
        {"bucket": "1h", "method": "mkt", "from": "2025-06-01T09:00:00Z", "to": "2025-06-01T12:00:00Z"},
    )  # fmt: skip
    assert response.status_code == 200, response.content
    buckets = [(b["start"][11:16], b["average"], b["count"]) for b in response.json()]
    assert buckets == [
        ("09:00", pytest.approx(10.0), 1),
        ("10:00", pytest.approx(_mkt([(15, 10.0), (30, 20.0), (15, 30.0)]), rel=1e-12), 2),
        ("12:00", 50.0, 1),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"method": ""}, "method"),
        ({"method": "MKT"}, "method"),
        ({"method": "mkt", "activation_energy": ""}, "activation_energy"),
        ({"method": "mkt", "activation_energy": "high"}, "activation_energy"),
        ({"method": "mkt", "activation_energy": "0"}, "activation_energy"),
        ({"method": "mkt", "activation_energy": "-83.144"}, "activation_energy"),
        ({"method": "mkt", "activation_energy": "1000.001"}, "activation_energy"),
        ({"method": "mkt", "activation_energy": "nan"}, "activation_energy"),
        ({"method": "mkt", "activation_energy": "inf"}, "activation_energy"),
        ({"method": "mean", "activation_energy": "0"}, "activation_energy"),
    ],
)
def test_a_bad_method_or_activation_energy_is_a_400_naming_it(
    reader_client: APIClient, now: datetime, query: dict[str, str], field: str
) -> None:
    _readings((15, 20.0))
    for path in (AVERAGE, "/api/measurements/lab-1/series"):
        response = reader_client.get(path, query)
        assert response.status_code == 400, (path, response.content)
        assert field in response.json()


def test_the_highest_activation_energy_is_allowed_and_other_methods_do_not_answer_it(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((15, 20.0))
    assert _average(reader_client, activation_energy="1000")["activation_energy"] == 1000.0
    mean = reader_client.get(AVERAGE, {"activation_energy": "50"}).json()
    assert mean["method"] == "mean"
    assert "activation_energy" not in mean


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=3_600_000_000),  # µs since the previous one
            st.floats(min_value=-60.0, max_value=200.0, allow_nan=False),
        ),
        min_size=1,
        max_size=25,
    ),
    energy=st.floats(min_value=20.0, max_value=1000.0),
    constant=st.booleans(),
)
def test_mkt_is_never_below_the_time_weighted_average_and_equals_it_when_constant(
    steps: list[tuple[int, float]], energy: float, constant: bool
) -> None:
    # Below ΔH/(2R) (over 1,200 K here) exp(−ΔH/RT) is convex, so by Jensen's inequality the
    # MKT is at least the time-weighted average of the same weights.
    with transaction.atomic():
        room = RoomFactory(room_id="prop")
        at = datetime(2025, 1, 1, tzinfo=UTC)
        readings = []
        for gap, value in steps:
            at += timedelta(microseconds=gap)
            readings.append(
                Measurement(room=room, timestamp=at, value=steps[0][1] if constant else value)
            )
        Measurement.objects.bulk_create(readings)
        start = readings[0].timestamp + (at - readings[0].timestamp) / 3
        end = at + timedelta(hours=1)
        mkt = mkt_summary(room, start, end, energy)["average"]
        weighted = time_weighted_summary(room, start, end)["average"]
        assert mkt is not None
        assert weighted is not None
        assert mkt >= weighted - 1e-9 * max(1.0, abs(weighted))
        if constant:
            assert mkt == pytest.approx(weighted, rel=1e-12, abs=1e-12)
            assert mkt == pytest.approx(steps[0][1], rel=1e-12, abs=1e-12)
        transaction.set_rollback(True)
