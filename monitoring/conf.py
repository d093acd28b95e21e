"""The monitoring app's settings, read and checked here (settings import no app)."""

from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error

from measurements.durations import DurationError, parse_duration


def alarm_repeat() -> timedelta:
    """`ALARM_REPEAT`: how often an active, unacknowledged alarm is announced again."""
    value = settings.ALARM_REPEAT
    return value if isinstance(value, timedelta) else _parsed(value)


@lru_cache(maxsize=8)
def _parsed(text: str) -> timedelta:
    return parse_duration(text)


def retry_delay(attempts: int) -> timedelta:
    """The wait before the next attempt of a notification tried `attempts` times: doubling
    from `NOTIFY_RETRY_SECONDS`, at most an hour."""
    seconds = settings.NOTIFY_RETRY_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, 3600.0))


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The system check of this app's settings."""
    errors: list[CheckMessage] = []
    try:
        alarm_repeat()
    except DurationError as exc:
        errors.append(
            Error(f"ALARM_REPEAT: {exc}", hint="A duration such as PT30M.", id="monitoring.E001")
        )
    if not 1 <= settings.NOTIFY_MAX_ATTEMPTS <= 100:
        errors.append(Error("NOTIFY_MAX_ATTEMPTS: from 1 to 100.", id="monitoring.E002"))
    if not 0 < settings.NOTIFY_RETRY_SECONDS <= 3600:
        errors.append(
            Error("NOTIFY_RETRY_SECONDS: more than 0, at most 3600.", id="monitoring.E003")
        )
    if not 0 <= settings.DUE_REMINDER_HOUR <= 23:
        errors.append(Error("DUE_REMINDER_HOUR: an hour from 0 to 23 (UTC).", id="monitoring.E005"))
    if not 0 < settings.NOTIFY_TIMEOUT_SECONDS <= 300:
        errors.append(
            Error("NOTIFY_TIMEOUT_SECONDS: more than 0, at most 300.", id="monitoring.E004")
        )
    return errors
