"""The calibrations app's settings, read and checked here (settings import no app)."""

from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.utils.dateparse import parse_duration


def due_soon() -> timedelta:
    """`CALIBRATION_DUE_SOON`: an instrument due within this is `due_soon` (DESIGN §4.7)."""
    value = settings.CALIBRATION_DUE_SOON
    return value if isinstance(value, timedelta) else _parsed(value)


@lru_cache(maxsize=8)
def _parsed(text: str) -> timedelta:
    # Django's parser of ISO 8601 durations: `P30D`, `P14DT12H`, `PT36H`.
    try:
        parsed = parse_duration(text.strip())
    except OverflowError:
        parsed = None
    if parsed is None or parsed < timedelta(0) or parsed > timedelta(days=3653):
        raise ValueError(f"{text!r} is not a duration from P0D to P3653D (ISO 8601, e.g. P30D).")
    return parsed


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The system check of this app's settings: `CALIBRATION_DUE_SOON` must be a duration."""
    try:
        due_soon()
    except ValueError as exc:
        return [
            Error(
                f"CALIBRATION_DUE_SOON: {exc}",
                hint="An ISO 8601 duration such as P30D.",
                id="calibrations.E001",
            )
        ]
    return []
