"""Temperature units: readings come in °C, °F or K and are stored in °C."""

from typing import Final, Literal

Unit = Literal["C", "F", "K"]
UNITS: Final[tuple[Unit, ...]] = ("C", "F", "K")
STORED_UNIT: Final[Unit] = "C"
ABSOLUTE_ZERO_C: Final = -273.15
# No sensor reads a room above a million degrees; the bound keeps every conversion and every
# sum of readings finite (a window's SUM of near-maximal doubles would overflow).
MAX_CELSIUS: Final = 1_000_000.0
# Absolute zero written in each unit, so a reading is checked in the unit it was sent in
# (converting first could land a hair below -273.15 through rounding).
ABSOLUTE_ZERO: Final[dict[str, float]] = {"C": ABSOLUTE_ZERO_C, "F": -459.67, "K": 0.0}
UNITS_HELP: Final = "`C` (degrees Celsius), `F` (degrees Fahrenheit) or `K` (kelvin)."
# A conversion's float artefacts (70.7 °F → 21.500000000000004 °C) are rounded away at this many
# decimal places: far below any thermometer's resolution, far above a double's noise at room
# temperatures, so a converted value reads back as a person wrote it (21.5 °C, 294.65 K).
CONVERSION_DECIMALS: Final = 9


class TooHotError(ValueError):
    """A temperature above 1,000,000 °C, which no room reading is."""

    def __init__(self, value: float, unit: str) -> None:
        suffix = "K" if unit == "K" else f"°{unit}"
        super().__init__(
            f"{value:g} {suffix} is above {MAX_CELSIUS:,.0f} °C, not a plausible temperature."
        )


class UnitError(ValueError):
    """The unit is not one of C, F, K."""

    def __init__(self, unit: object) -> None:
        super().__init__(f"'{unit}' is not a unit; choose one of C, F, K.")


class BelowAbsoluteZeroError(ValueError):
    """A temperature below absolute zero, which cannot be."""

    def __init__(self, value: float, unit: str) -> None:
        floor = ABSOLUTE_ZERO[unit]
        suffix = "K" if unit == "K" else f"°{unit}"
        super().__init__(f"{value:g} {suffix} is below absolute zero ({floor:g} {suffix}).")


def check_unit(unit: object) -> Unit:
    """`unit` if it is one of C, F, K (exact case), else UnitError."""
    if unit == "C" or unit == "F" or unit == "K":
        return unit  # type: ignore[return-value]
    raise UnitError(unit)


def to_celsius(value: float, unit: str) -> float:
    """`value` in `unit` converted to °C; BelowAbsoluteZeroError below absolute zero,
    TooHotError above 1,000,000 °C."""
    checked = check_unit(unit)
    if value < ABSOLUTE_ZERO[checked]:
        raise BelowAbsoluteZeroError(value, checked)
    if checked == "C":
        celsius = value
    elif checked == "F":
        celsius = round((value - 32.0) / 9.0 * 5.0, CONVERSION_DECIMALS)
    else:
        celsius = round(value - 273.15, CONVERSION_DECIMALS)
    if not celsius <= MAX_CELSIUS:  # also catches an infinity
        raise TooHotError(value, checked)
    return max(celsius, ABSOLUTE_ZERO_C)


def from_celsius(value: float, unit: str) -> float:
    """`value` in °C converted to `unit`."""
    checked = check_unit(unit)
    if checked == "C":
        return value
    # A value sent in °C is stored as sent; only what a conversion computed is rounded.
    if checked == "F":
        return round(value * 9.0 / 5.0 + 32.0, CONVERSION_DECIMALS)
    return round(value + 273.15, CONVERSION_DECIMALS)


def from_celsius_or_none(value: float | None, unit: str) -> float | None:
    """`from_celsius`, passing None through (an empty window has no average)."""
    return None if value is None else from_celsius(value, unit)
