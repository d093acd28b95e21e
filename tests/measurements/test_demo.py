"""`seed_demo --readings N`: rooms with readings every 10 minutes, idempotent."""

import itertools
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from measurements.demo import DEMO_ROOMS
from measurements.models import Measurement, Room

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_readings_per_room_and_a_second_run_adds_nothing(
    now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    assert "Readings: 150 created, 0 already there." in capsys.readouterr().out
    assert Room.objects.count() == len(DEMO_ROOMS) == 5
    assert all(room.name for room in Room.objects.all())
    stored = list(Measurement.objects.filter(room_id="lab-1").order_by("timestamp"))
    assert len(stored) == 30
    assert stored[-1].timestamp == now
    assert stored[1].timestamp - stored[0].timestamp == timedelta(minutes=10)
    assert all(-10 < m.value < 40 for m in stored)

    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    assert "Readings: 0 created, 150 already there." in capsys.readouterr().out
    assert Measurement.objects.count() == 150


def test_seed_demo_defaults_to_a_week_of_readings_every_ten_minutes(now: datetime) -> None:
    call_command("seed_demo", "--calibrations", "0", stdout=StringIO())
    stamps = list(
        Measurement.objects.filter(room_id="lab-1")
        .order_by("timestamp")
        .values_list("timestamp", flat=True)
    )
    assert len(stamps) == 7 * 24 * 6
    assert stamps[-1] == now
    assert now - stamps[0] == timedelta(days=7) - timedelta(minutes=10)
    assert {b - a for a, b in itertools.pairwise(stamps)} == {timedelta(minutes=10)}


def test_seed_demo_refuses_a_bad_readings_count() -> None:
    with pytest.raises(CommandError):
        call_command("seed_demo", "--readings", "-1")
    with pytest.raises(CommandError, match="at most"):
        call_command("seed_demo", "--calibrations", "0", "--readings", "1000001")
    assert not Measurement.objects.exists()


def test_seed_demo_gives_rooms_a_range_and_keeps_one_staff_changed(now: datetime) -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "3")
    ranges = dict(Room.objects.values_list("room_id", "min_c"))
    assert ranges["lab-1"] is not None
    assert ranges["cold-store"] is None  # one room without a range: status `no_range`
    Room.objects.filter(pk="lab-1").update(min_c=10.0, max_c=30.0)
    call_command("seed_demo", "--calibrations", "0", "--readings", "3")
    lab = Room.objects.get(pk="lab-1")
    assert (lab.min_c, lab.max_c) == (10.0, 30.0)
