"""Fixtures of the measurements tests: a frozen clock and a sensor account."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from measurements import clock
from tests.factories import UserFactory

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Freezes our own clock (`measurements.clock.now`) at NOW; Django's is left alone."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture
def sensor(db: None) -> User:
    """A sensor account: its only permission is to post readings."""
    return UserFactory(username="sensor-1", permissions=["measurements.add_measurement"])


@pytest.fixture
def sensor_client(client_for: Callable[[User], APIClient], sensor: User) -> APIClient:
    return client_for(sensor)
