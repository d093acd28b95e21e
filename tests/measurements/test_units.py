"""Temperature conversions, both ways, and absolute zero in every unit."""

import pytest

from measurements.units import (
    BelowAbsoluteZeroError,
    TooHotError,
    UnitError,
    from_celsius,
    from_celsius_or_none,
    to_celsius,
)


@pytest.mark.parametrize(
    ("value", "unit", "celsius"),
    [
        (21.5, "C", 21.5),
        (32.0, "F", 0.0),
        (212.0, "F", 100.0),
        (-40.0, "F", -40.0),
        (98.6, "F", 37.0),
        (273.15, "K", 0.0),
        (0.0, "K", -273.15),
        (-459.67, "F", -273.15),
        (-273.15, "C", -273.15),
    ],
)
def test_to_celsius_converts_each_unit(value: float, unit: str, celsius: float) -> None:
    assert to_celsius(value, unit) == pytest.approx(celsius)


@pytest.mark.parametrize(
    ("celsius", "unit", "value"),
    [(21.5, "C", 21.5), (0.0, "F", 32.0), (100.0, "F", 212.0), (0.0, "K", 273.15)],
)
def test_from_celsius_converts_back(celsius: float, unit: str, value: float) -> None:
    assert from_celsius(celsius, unit) == pytest.approx(value)


@pytest.mark.parametrize("unit", ["C", "F", "K"])
@pytest.mark.parametrize("value", [-273.15, -40.0, 0.0, 21.5, 1000.0])
def test_a_round_trip_returns_the_same_temperature(unit: str, value: float) -> None:
    assert to_celsius(from_celsius(value, unit), unit) == pytest.approx(value)


def test_absolute_zero_in_fahrenheit_is_never_stored_below_absolute_zero_by_rounding() -> None:
    assert to_celsius(-459.67, "F") >= -273.15


@pytest.mark.parametrize(("value", "unit"), [(-273.16, "C"), (-459.68, "F"), (-0.01, "K")])
def test_a_temperature_below_absolute_zero_is_refused(value: float, unit: str) -> None:
    with pytest.raises(BelowAbsoluteZeroError, match="below absolute zero"):
        to_celsius(value, unit)


@pytest.mark.parametrize("unit", ["c", "celsius", "", "R", None])
def test_an_unknown_unit_is_refused_with_the_choices(unit: object) -> None:
    with pytest.raises(UnitError, match="choose one of C, F, K"):
        to_celsius(1.0, unit)  # type: ignore[arg-type]
    with pytest.raises(UnitError):
        from_celsius(1.0, unit)  # type: ignore[arg-type]


def test_no_value_converts_to_no_value() -> None:
    assert from_celsius_or_none(None, "F") is None
    assert from_celsius_or_none(100.0, "F") == pytest.approx(212.0)


@pytest.mark.parametrize(
    ("value", "unit"), [(1_000_000.01, "C"), (1e308, "F"), (1.7e308, "K"), (float("inf"), "C")]
)
def test_a_temperature_above_a_million_degrees_celsius_is_refused(value: float, unit: str) -> None:
    with pytest.raises(TooHotError, match="not a plausible temperature"):
        to_celsius(value, unit)


def test_a_million_degrees_celsius_itself_converts_finitely_to_every_unit() -> None:
    assert to_celsius(1_000_000.0, "C") == 1_000_000.0
    assert from_celsius(1_000_000.0, "F") == pytest.approx(1_800_032.0)


@pytest.mark.parametrize(
    ("value", "unit", "celsius"),
    [(70.7, "F", 21.5), (294.65, "K", 21.5), (98.6, "F", 37.0), (293.15, "K", 20.0)],
)
def test_a_converted_reading_is_stored_as_a_person_wrote_it(
    value: float, unit: str, celsius: float
) -> None:
    # Unrounded, 70.7 °F is 21.500000000000004 °C.
    assert to_celsius(value, unit) == celsius


@pytest.mark.parametrize(
    ("celsius", "unit", "value"), [(21.4, "K", 294.55), (36.6, "F", 97.88), (21.5, "K", 294.65)]
)
def test_a_converted_answer_reads_as_a_person_writes_it(
    celsius: float, unit: str, value: float
) -> None:
    # Unrounded, 21.4 °C is 294.54999999999995 K and 36.6 °C is 97.88000000000001 °F.
    assert from_celsius(celsius, unit) == value
    assert repr(from_celsius(celsius, unit)) == repr(value)


def test_a_celsius_reading_keeps_every_digit_it_was_sent_with() -> None:
    assert to_celsius(21.123456789123, "C") == 21.123456789123
    assert from_celsius(21.123456789123, "C") == 21.123456789123
