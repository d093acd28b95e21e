"""`seed_demo --readings N`: rooms with readings every 10 minutes, idempotent."""

import itertools
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from measurements import clock
from measurements.conf import stale_after
from measurements.demo import DEMO_ROOMS
from measurements.models import Measurement, Room
from measurements.services import Reading, readings_ingest

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_readings_per_room_and_a_second_run_adds_nothing(
    now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    assert "Readings: 180 created, 0 already there." in capsys.readouterr().out
    assert Room.objects.count() == len(DEMO_ROOMS) == 6
    assert all(room.name for room in Room.objects.all())
    stored = list(Measurement.objects.filter(room_id="lab-1").order_by("timestamp"))
    assert len(stored) == 30
    assert stored[-1].timestamp == now
    assert stored[1].timestamp - stored[0].timestamp == timedelta(minutes=10)
    assert all(-10 < m.value < 40 for m in stored)

    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    assert "Readings: 0 created, 180 already there." in capsys.readouterr().out
    assert Measurement.objects.count() == 180


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


def test_a_run_again_later_adds_only_the_readings_due_since_in_every_room(
    monkeypatch: pytest.MonkeyPatch, now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    capsys.readouterr()
    # A client posts a reading of its own meanwhile (README's example, at its arrival time):
    # before, that made the next run add readings to that room alone.
    readings_ingest(
        room_id="lab-1", readings=[Reading(timestamp=now + timedelta(seconds=17), value=21.3)]
    )
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    assert "Readings: 0 created, 180 already there." in capsys.readouterr().out

    later = now + timedelta(minutes=84)
    monkeypatch.setattr(clock, "now", lambda: later)
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    # The eight whole ten minutes since (12:10 … 13:20), in each of the six rooms, and nothing
    # else.
    assert "Readings: 48 created, 132 already there." in capsys.readouterr().out
    for room_id in DEMO_ROOMS:
        stamps = list(
            Measurement.objects.filter(room_id=room_id, sensor="")
            .order_by("timestamp")
            .values_list("timestamp", flat=True)
        )
        assert stamps[-1] == now + timedelta(minutes=80)
        demo = [t for t in stamps if t.second == 0]
        assert len(demo) == 38
        assert {b - a for a, b in itertools.pairwise(demo)} == {timedelta(minutes=10)}


def test_the_demo_sensors_keep_the_demo_rooms_from_turning_stale(
    monkeypatch: pytest.MonkeyPatch, now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    capsys.readouterr()
    later = now + timedelta(minutes=25)  # seeded at 12:00; stale after 15 minutes

    def statuses() -> set[str]:
        rooms = Room.objects.with_status(now=later, stale_after=stale_after())
        return {room.status for room in rooms}  # type: ignore[attr-defined]

    assert statuses() == {"stale"}
    monkeypatch.setattr(clock, "now", lambda: later)
    call_command("demo_sensors", "--once")
    assert "Demo sensors: 12 reading(s) posted." in capsys.readouterr().out
    assert "stale" not in statuses()
    call_command("demo_sensors", "--once")  # nothing more is due yet
    assert capsys.readouterr().out == ""
    assert Measurement.objects.count() == 192


def test_make_run_starts_the_demo_sensors_beside_the_server_and_stops_them_with_it() -> None:
    recipe = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = recipe.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py demo_sensors & sensors=$$!;" in run
    trap = next(line for line in run.splitlines() if "trap" in line)
    assert "$$sensors" in trap.split("'")[1]  # killed, and waited for, with the server
    assert trap.rstrip(" \\").endswith("EXIT INT TERM;")


def test_the_demo_chamber_opens_in_alarm_and_the_demo_sensors_clear_it(
    monkeypatch: pytest.MonkeyPatch, now: datetime, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make run` opens on an alarm: the chamber's door was open for the 50 minutes before it
    was seeded (six readings above its 2–8 °C range, more than its 15-minute delay), and two
    hours later the demo sensors' readings are back in range."""
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    chamber = Room.objects.get(pk="stability-chamber")
    assert (chamber.min_c, chamber.max_c, chamber.alarm_delay) == (2.0, 8.0, timedelta(minutes=15))
    warm = Measurement.objects.filter(room=chamber, value__gt=8).order_by("timestamp")
    assert [m.timestamp for m in warm] == [
        now - timedelta(minutes=m) for m in (50, 40, 30, 20, 10, 0)
    ]
    assert not Measurement.objects.filter(
        room=chamber, value__gt=8, timestamp__lt=now - timedelta(minutes=50)
    ).exists()
    # A second run (make run again) writes no new excursion.
    call_command("seed_demo", "--calibrations", "0", "--readings", "30")
    assert Measurement.objects.filter(room=chamber, value__gt=8).count() == 6

    monkeypatch.setattr(clock, "now", lambda: now + timedelta(hours=3))
    call_command("demo_sensors", "--once")
    newest = Measurement.objects.filter(room=chamber).order_by("-timestamp")[:6]
    assert all(2 <= m.value <= 7.5 for m in newest)
