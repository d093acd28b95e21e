"""`seed_demo`: demo data with real history, idempotent, with a progress bar on long runs."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from calibrations.conf import due_soon
from calibrations.demo import DEMO_INSTRUMENTS
from calibrations.models import Calibration, Instrument, InstrumentStatus
from calibrations.services import instrument_create
from measurements import clock
from measurements.models import Measurement, Room
from monitoring.demo import DEMO_PLACEMENTS
from monitoring.models import Alarm, Notification, NotificationTarget, Placement
from monitoring.services import placement_create
from tagging.models import TagAssignment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_instant(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every run of a test at one instant: a run later adds the readings due since, by design,
    so two runs either side of a whole ten minutes would differ by one reading a room."""
    instant = clock.now()
    monkeypatch.setattr(clock, "now", lambda: instant)


def _counts() -> tuple[int, ...]:
    return (
        Calibration.objects.filter(instrument__isnull=True).count(),
        TagAssignment.objects.count(),
        TagAssignment.objects.active().count(),
        Room.objects.count(),
        Measurement.objects.count(),
        Instrument.objects.count(),
        Calibration.objects.filter(instrument__isnull=False).count(),
        Placement.objects.count(),
        NotificationTarget.objects.count(),
        Alarm.objects.count(),
        Notification.objects.count(),
    )


def test_seeding_twice_adds_nothing_the_second_time() -> None:
    out = StringIO()
    call_command("seed_demo", "--calibrations", "60", "--readings", "12", stdout=out)
    first = _counts()
    assert first[0] == 60
    assert first[1] > first[2] > 0  # tags with history: some periods closed, some open
    assert first[3:5] == (6, 72)
    assert first[5:] == (
        len(DEMO_INSTRUMENTS),
        sum(len(spec["calibrations"]) for spec in DEMO_INSTRUMENTS.values()),
        len(DEMO_PLACEMENTS),
        1,  # the console target
        1,  # the chamber's alarm
        1,  # and its notification
    )
    call_command("seed_demo", "--calibrations", "60", "--readings", "12", stdout=out)
    assert _counts() == first
    assert "Calibrations: 0 created, 60 already there." in out.getvalue()


def test_a_bigger_seed_adds_only_what_is_missing() -> None:
    call_command("seed_demo", "--calibrations", "20", "--readings", "0", stdout=StringIO())
    kept = set(Calibration.objects.values_list("pk", flat=True))
    call_command("seed_demo", "--calibrations", "50", "--readings", "0", stdout=StringIO())
    assert Calibration.objects.filter(instrument__isnull=True).count() == 50
    assert kept <= set(Calibration.objects.values_list("pk", flat=True))


def test_the_demo_register_shows_each_status_the_console_explains() -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "6", stdout=StringIO())
    found = dict(
        Instrument.objects.with_status(now=timezone.now(), due_soon=due_soon()).values_list(
            "pk", "status"
        )
    )
    assert found == {
        "TH-LAB1": InstrumentStatus.OK,
        "TH-LAB2": InstrumentStatus.OVERDUE,
        "TH-CLEAN": InstrumentStatus.OUT_OF_TOLERANCE,
        "TH-SERVER": InstrumentStatus.DUE_SOON,
        "TH-COLD": InstrumentStatus.NEVER_CALIBRATED,
        "REF-01": InstrumentStatus.OK,
    }
    # Each demo room's readings (sensor "") come from its thermometer.
    assert set(Placement.objects.open().values_list("instrument_id", "room_id", "sensor")) == {
        (instrument, room, "") for instrument, room in DEMO_PLACEMENTS.items()
    }


def test_staff_placements_are_left_alone_by_the_demo() -> None:
    call_command("seed_demo", "--calibrations", "0", "--readings", "0", stdout=StringIO())
    Placement.objects.all().delete()
    mine = instrument_create(instrument_id="MINE", name="Staff's own")
    placement_create(instrument=mine, room_id="lab-1", sensor="")
    call_command("seed_demo", "--calibrations", "0", "--readings", "0", stdout=StringIO())
    assert Placement.objects.filter(room_id="lab-1").get().instrument_id == "MINE"


def test_long_runs_show_a_progress_bar_on_stderr() -> None:
    err = StringIO()
    call_command(
        "seed_demo", "--calibrations", "0", "--readings", "500", stdout=StringIO(), stderr=err
    )
    bar = err.getvalue()
    assert "readings" in bar
    assert "100%" in bar
    assert "3000/3000" in bar


def test_short_runs_stay_quiet() -> None:
    err = StringIO()
    call_command(
        "seed_demo", "--calibrations", "10", "--readings", "5", stdout=StringIO(), stderr=err
    )
    assert err.getvalue() == ""


@pytest.mark.parametrize(
    "args", [["--calibrations", "-1"], ["--calibrations", "many"], ["--calibrations", "5000001"]]
)
def test_bad_sizes_are_refused_and_nothing_is_seeded(args: list[str]) -> None:
    with pytest.raises(CommandError, match="--calibrations"):
        call_command("seed_demo", *args, stdout=StringIO())
    assert not any(_counts())
