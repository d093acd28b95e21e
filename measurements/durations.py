"""Durations as clients write them: ISO 8601 without years or months (`PT15M`, `P1DT12H`, `P1W`)
or a shorthand `<integer><s|m|h|d|w>` (`90s`, `15m`, `7d`)."""

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Final

# "At most 10 years": ten calendar years are at most 3,653 days (three leap days).
MAX_DURATION: Final = timedelta(days=3653)
DURATION_HELP: Final = (
    "An ISO 8601 duration without years or months (`PT15M`, `PT1H`, `P1D`, `P1W`, `P1DT12H`) "
    "or a shorthand `<integer><s|m|h|d|w>` (`90s`, `15m`, `1h`, `7d`, `2w`); "
    "positive and at most 10 years (3,653 days)."
)

_SHORTHAND = re.compile(r"(?P<sign>[-+]?)(?P<number>\d{1,12})(?P<unit>[smhdw])")
_SHORTHAND_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_NUMBER = r"\d{1,12}"
_ISO = re.compile(
    rf"(?P<sign>[-+]?)P(?:(?P<weeks>{_NUMBER})W)?(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?"
    rf"(?:(?P<seconds>{_NUMBER}(?:[.,]\d{{1,6}})?)S)?)?"
)
# Years and months have no fixed length, so a window of "one month" would be ambiguous.
_YEARS_OR_MONTHS = re.compile(r"[-+]?P(?:\d+(?:[.,]\d+)?[YM])|[-+]?P[^T]*\d[YM]")


class DurationError(ValueError):
    """The text is not a duration we accept; the message says why."""


def parse_duration(text: object, *, zero: bool = False) -> timedelta:
    """The timedelta `text` names; DurationError if malformed, not positive (`zero`: negative)
    or over 10 years."""
    if not isinstance(text, str):
        raise DurationError("A duration must be a string such as PT1H or 15m.")
    raw = text.strip()
    if len(raw) > 64:
        raise DurationError("That duration is too long to be one; try PT1H or 15m.")
    duration = _parse(raw)
    if duration < timedelta(0) or (duration == timedelta(0) and not zero):
        kind = "zero or positive" if zero else "positive"
        raise DurationError(f"The duration must be {kind}; '{raw}' is not.")
    if duration > MAX_DURATION:
        raise DurationError(f"The duration must be at most 10 years (P{MAX_DURATION.days}D).")
    return duration


def _parse(raw: str) -> timedelta:
    shorthand = _SHORTHAND.fullmatch(raw)
    if shorthand:
        amount = int(shorthand["number"])
        if shorthand["sign"] == "-":
            amount = -amount
        return _timedelta(raw, **{_SHORTHAND_UNITS[shorthand["unit"]]: amount})
    iso_text = raw.upper()
    if _YEARS_OR_MONTHS.match(iso_text):
        raise DurationError(
            f"'{raw}': years and months are not accepted (their length varies); "
            "use days or weeks, e.g. P30D or P4W."
        )
    iso = _ISO.fullmatch(iso_text)
    # `P` alone, or a `T` with nothing after it, names no duration.
    if not iso or iso_text.lstrip("+-") in ("P", "PT") or iso_text.endswith("T"):
        raise DurationError(
            f"'{raw}' is not a duration. Use ISO 8601 without years or months "
            "(PT15M, PT1H, P1D, P1W, P1DT12H) or a shorthand such as 90s, 15m, 1h, 7d, 2w."
        )
    try:
        seconds = Decimal((iso["seconds"] or "0").replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise DurationError(f"'{raw}' is not a duration.") from None
    parts = {name: int(iso[name] or 0) for name in ("weeks", "days", "hours", "minutes")}
    duration = _timedelta(raw, **parts, microseconds=int(seconds * 1_000_000))
    return -duration if iso["sign"] == "-" else duration


def _timedelta(raw: str, **parts: int) -> timedelta:
    try:
        return timedelta(**parts)
    except OverflowError:
        raise DurationError(
            f"The duration must be at most 10 years (P{MAX_DURATION.days}D); '{raw}' is longer."
        ) from None


def format_duration(duration: timedelta) -> str:
    """ISO 8601 for a positive timedelta, in days and time: `PT1H`, `P1D`, `P7D`, `P1DT12H`."""
    if duration < timedelta(0):
        return "-" + format_duration(-duration)
    days = duration.days
    hours, rest = divmod(duration.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    micros = duration.microseconds
    text = "P" + (f"{days}D" if days else "")
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds or micros:
        time += f"{seconds}.{micros:06d}".rstrip("0").rstrip(".") + "S" if micros else f"{seconds}S"
    if time:
        text += "T" + time
    return text if text != "P" else "PT0S"


def format_span(duration: timedelta) -> str:
    """A span for people, to the second: `2 d 3 h`, `2 h 05 min`, `4 min 07 s`, `45 s`."""
    seconds = int(duration.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"
