"""`make run` shows a newcomer an alarm and its notification: `seed_demo` leaves the stability
chamber in a high alarm, announced to a target that writes to the worker's log."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command

from monitoring.delivery import deliver
from monitoring.demo import DEMO_TARGET
from monitoring.models import Alarm, Notification, NotificationTarget
from monitoring.services import target_update

pytestmark = pytest.mark.django_db


def _seed() -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "30", stdout=StringIO())


def test_the_demo_opens_on_an_active_alarm_whose_notification_the_worker_prints(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _seed()
    alarm = Alarm.objects.get()
    assert (alarm.room_id, alarm.kind, alarm.cleared_at, alarm.acknowledged_at) == (
        "stability-chamber",
        "high",
        None,
        None,
    )
    assert alarm.peak is not None
    assert alarm.peak > 8
    notification = Notification.objects.get()
    assert (notification.alarm_id, notification.event, notification.target.url) == (
        alarm.pk,
        "raised",
        "console://",
    )
    with caplog.at_level(logging.WARNING, logger="monitoring.console"):
        deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.state == "sent"
    printed = "\n".join(r.getMessage() for r in caplog.records if r.name == "monitoring.console")
    assert "Alarm: stability-chamber (Stability chamber) high" in printed
    assert "above its range 2–8 °C" in printed


def test_seeding_again_keeps_the_target_as_staff_left_it() -> None:
    _seed()
    target = NotificationTarget.objects.get(name=DEMO_TARGET)
    target_update(target=target, enabled=False, events=["raised"])
    _seed()
    target.refresh_from_db()
    assert NotificationTarget.objects.count() == 1
    assert (target.enabled, target.events) == (False, ["raised"])
    assert Alarm.objects.count() == 1
