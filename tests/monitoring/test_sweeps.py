"""What the worker does every minute (DESIGN §4.8): silent rooms get a `no_data` alarm, alarms
nobody acknowledged are announced again, and `check_alarms` does one round of it from cron."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from measurements.models import Room
from measurements.services import reading_record, room_update
from monitoring.models import Alarm, AlarmKind, Notification
from monitoring.services import alarm_acknowledge, no_data_sweep, repeats_write, target_create
from tests.monitoring.conftest import T0

pytestmark = pytest.mark.django_db

STALE = timedelta(minutes=15)


def test_a_silent_room_gets_one_no_data_alarm_opened_when_it_went_stale() -> None:
    reading_record(room_id="lab-1", value=20.0, timestamp=T0)
    reading_record(room_id="lab-2", value=20.0, timestamp=T0 + timedelta(minutes=10))
    now = T0 + timedelta(minutes=20)
    raised = no_data_sweep(now=now, stale_after=STALE)
    assert [(a.room_id, a.kind, a.opened_at, a.peak) for a in raised] == [
        ("lab-1", AlarmKind.NO_DATA, T0 + STALE, None)
    ]
    # The next sweeps raise no second one.
    assert no_data_sweep(now=now + timedelta(minutes=1), stale_after=STALE) == []
    assert Alarm.objects.count() == 1


def test_rooms_silent_together_are_raised_in_batches_each_told_to_its_targets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("monitoring.services.alarms.SWEEP_BATCH", 2)
    everywhere = target_create(name="desk", url="json://127.0.0.1:9/desk", events=["raised"])
    for n in range(5):
        reading_record(room_id=f"lab-{n}", value=20.0, timestamp=T0 + timedelta(minutes=n))
    reading_record(room_id="lab-9", value=20.0, timestamp=T0 + timedelta(minutes=30))
    only_lab_3 = target_create(
        name="lab 3", url="json://127.0.0.1:9/lab3", events=["raised"], rooms=["lab-3"]
    )
    raised = no_data_sweep(now=T0 + timedelta(minutes=40), stale_after=STALE)
    assert [(a.room_id, a.opened_at) for a in raised] == [
        (f"lab-{n}", T0 + timedelta(minutes=n) + STALE) for n in range(5)
    ]
    told = Notification.objects.filter(alarm__in=raised)
    assert sorted((n.alarm.room_id, n.target_id) for n in told) == sorted(
        [(f"lab-{n}", everywhere.pk) for n in range(5)] + [("lab-3", only_lab_3.pk)]
    )
    # Each room's judging knows it has an active alarm: its next reading clears it.
    reading_record(room_id="lab-0", value=20.0, timestamp=T0 + timedelta(minutes=41))
    assert Alarm.objects.get(room_id="lab-0").cleared_at == T0 + timedelta(minutes=41)
    assert no_data_sweep(now=T0 + timedelta(minutes=41), stale_after=STALE) == []


def test_the_next_reading_clears_a_no_data_alarm() -> None:
    reading_record(room_id="lab-1", value=20.0, timestamp=T0)
    no_data_sweep(now=T0 + timedelta(hours=1), stale_after=STALE)
    reading_record(room_id="lab-1", value=20.0, timestamp=T0 + timedelta(minutes=50))
    alarm = Alarm.objects.get()
    assert alarm.cleared_at == T0 + timedelta(minutes=50)
    assert alarm.readings == 0


def test_rooms_never_read_or_with_alarms_off_get_no_no_data_alarm() -> None:
    reading_record(room_id="quiet", value=20.0, timestamp=T0)
    room_update(room="quiet", alarms_enabled=False)
    Room.objects.create(room_id="new")
    assert no_data_sweep(now=T0 + timedelta(days=1), stale_after=STALE) == []


def test_an_active_alarm_nobody_acknowledged_is_announced_again_every_repeat() -> None:
    target_create(name="desk", url="json://127.0.0.1:9/desk", events=["raised", "repeat"])
    reading_record(room_id="lab-1", value=20.0, timestamp=T0)
    room_update(room="lab-1", min_c=18.0, max_c=22.0)
    reading_record(room_id="lab-1", value=25.0, timestamp=T0 + timedelta(minutes=1))
    alarm = Alarm.objects.get()
    every = timedelta(minutes=30)
    assert repeats_write(now=alarm.announced_at + timedelta(minutes=29), every=every) == 0
    assert repeats_write(now=alarm.announced_at + every, every=every) == 1
    assert repeats_write(now=alarm.announced_at + every + timedelta(minutes=1), every=every) == 0
    assert repeats_write(now=alarm.announced_at + 2 * every, every=every) == 1
    events = list(Notification.objects.order_by("id").values_list("event", flat=True))
    assert events == ["raised", "repeat", "repeat"]
    alarm_acknowledge(alarm=alarm, username="alice", comment="On it.")
    assert repeats_write(now=alarm.announced_at + 10 * every, every=every) == 0


def test_check_alarms_runs_one_sweep_from_cron_and_says_what_it_did() -> None:
    target_create(name="desk", url="json://127.0.0.1:9/desk", events=["raised"])
    reading_record(room_id="lab-1", value=20.0, timestamp=timezone.now() - timedelta(hours=2))
    out = io.StringIO()
    call_command("check_alarms", stdout=out)
    assert Alarm.objects.filter(kind=AlarmKind.NO_DATA, cleared_at__isnull=True).count() == 1
    # Port 9 (discard) refuses: the notification was tried once and waits for another try.
    notification = Notification.objects.get()
    assert notification.attempts == 1
    assert notification.state == "pending"
    assert "1 no-data alarm" in out.getvalue()
