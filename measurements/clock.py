"""The service's notion of "now" for measurement windows, in one place so tests can freeze it."""

from datetime import datetime

from django.utils import timezone


def now() -> datetime:
    """The current instant, aware, in UTC."""
    return timezone.now()
