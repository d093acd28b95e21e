"""Calibration due reminders (DESIGN §4.8): once a day a `due` notification for each instrument
that turned due soon, overdue or out of tolerance since its last reminder, to the targets that
hear of `due`; delivered like an alarm's."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from calibrations.services import calibration_create
from monitoring.delivery import deliver
from monitoring.models import DueReminder, Notification
from monitoring.services import due_reminders_write, target_create
from tests.factories import CalibrationTypeFactory, InstrumentFactory, PlacementFactory, RoomFactory
from tests.monitoring.conftest import Receiver

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, tzinfo=UTC)
WITHIN = timedelta(days=30)


def reminders(now: datetime = NOW) -> list[tuple[str, str]]:
    due_reminders_write(now=now, within=WITHIN)
    return list(
        Notification.objects.filter(event="due")
        .order_by("id")
        .values_list("instrument_id", "target__name")
    )


@pytest.fixture
def check():  # type: ignore[no-untyped-def]
    return CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)


def calibrate(check, instrument: str, at: datetime, error: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    calibration_create(
        calibration_type=check, value=error, username="a", timestamp=at, instrument_id=instrument
    )


def test_an_instrument_is_reminded_once_per_status_it_turns_to(check) -> None:  # type: ignore[no-untyped-def]
    target_create(name="desk", url="json://127.0.0.1:9/desk", events=["due"])
    target_create(name="alarms only", url="json://127.0.0.1:9/x", events=["raised"])
    InstrumentFactory(instrument_id="TH-1", calibration_interval_days=365)
    InstrumentFactory(instrument_id="TH-OK", calibration_interval_days=365)
    calibrate(check, "TH-1", NOW - timedelta(days=350))  # due in 15 days: due soon
    calibrate(check, "TH-OK", NOW - timedelta(days=10))
    assert reminders() == [("TH-1", "desk")]
    assert reminders(NOW + timedelta(days=1)) == [("TH-1", "desk")]  # still due soon: nothing
    # Overdue now: a second reminder.
    assert reminders(NOW + timedelta(days=20)) == [("TH-1", "desk"), ("TH-1", "desk")]
    assert DueReminder.objects.get().status == "overdue"
    # Calibrated again: it needs no one; its reminder is forgotten.
    calibrate(check, "TH-1", NOW + timedelta(days=21))
    assert len(reminders(NOW + timedelta(days=22))) == 2
    assert not DueReminder.objects.exists()
    # Found out of tolerance: reminded again.
    calibrate(check, "TH-1", NOW + timedelta(days=23), error=0.9)
    assert len(reminders(NOW + timedelta(days=24))) == 3


def test_a_target_for_some_rooms_hears_of_the_instruments_placed_there(check) -> None:  # type: ignore[no-untyped-def]
    lab = RoomFactory(room_id="lab-1")
    RoomFactory(room_id="lab-2")
    target_create(name="lab-1 desk", url="json://127.0.0.1:9/x", events=["due"], rooms=["lab-1"])
    target_create(name="lab-2 desk", url="json://127.0.0.1:9/y", events=["due"], rooms=["lab-2"])
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=30)
    PlacementFactory(instrument=instrument, room=lab, placed_at=NOW - timedelta(days=100))
    calibrate(check, "TH-1", NOW - timedelta(days=60))
    assert reminders() == [("TH-1", "lab-1 desk")]


def test_a_reminder_reaches_a_webhook_naming_the_instrument(check, receiver: Receiver) -> None:  # type: ignore[no-untyped-def]
    target_create(name="hook", url=receiver.url, events=["due"])
    InstrumentFactory(
        instrument_id="TH-1", name="Balance room thermometer", calibration_interval_days=30
    )
    calibrate(check, "TH-1", datetime.now(UTC) - timedelta(days=60))
    due_reminders_write(now=datetime.now(UTC), within=WITHIN)
    assert deliver(Notification.objects.get().pk).state == "sent"
    [body] = receiver.wait_for(1)
    assert body["event"] == "due"
    assert body["instrument"]["instrument_id"] == "TH-1"
    assert body["instrument"]["status"] == "overdue"
    assert "Balance room thermometer" in body["title"]
    assert body["link"].endswith("/admin/calibrations/instrument/TH-1/change/")


def test_check_alarms_writes_the_reminders_with_due(check) -> None:  # type: ignore[no-untyped-def]
    target_create(name="desk", url="json://127.0.0.1:9/desk", events=["due"])
    InstrumentFactory(instrument_id="TH-1", calibration_interval_days=30)
    calibrate(check, "TH-1", datetime.now(UTC) - timedelta(days=60))
    out = io.StringIO()
    call_command("check_alarms", stdout=out)
    assert not Notification.objects.exists()
    call_command("check_alarms", "--due", stdout=out)
    assert Notification.objects.filter(event="due").count() == 1
    assert "1 due reminder(s) written" in out.getvalue()
