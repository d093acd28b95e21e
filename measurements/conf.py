"""The measurements app's settings, read and checked here (settings import no app)."""

from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from .durations import DurationError, parse_duration


def stale_after() -> timedelta:
    """`ROOM_STALE_AFTER`: a room whose last reading is older is `stale` (DESIGN §4.5)."""
    value = settings.ROOM_STALE_AFTER
    return value if isinstance(value, timedelta) else _parsed(value)


@lru_cache(maxsize=8)
def _parsed(text: str) -> timedelta:
    return parse_duration(text)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The system check of this app's settings: `ROOM_STALE_AFTER` must be a duration."""
    try:
        stale_after()
    except DurationError as exc:
        return [
            Error(
                f"ROOM_STALE_AFTER: {exc}",
                hint="A duration such as PT15M, 15m or 1h.",
                id="measurements.E001",
            )
        ]
    return []
