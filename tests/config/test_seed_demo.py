"""`seed_demo`: demo data with real history, idempotent, with a progress bar on long runs."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from calibrations.models import Calibration
from measurements.models import Measurement, Room
from tagging.models import TagAssignment

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (
        Calibration.objects.count(),
        TagAssignment.objects.count(),
        TagAssignment.objects.active().count(),
        Room.objects.count(),
        Measurement.objects.count(),
    )


def test_seeding_twice_adds_nothing_the_second_time() -> None:
    out = StringIO()
    call_command("seed_demo", "--calibrations", "60", "--readings", "12", stdout=out)
    first = _counts()
    assert first[0] == 60
    assert first[1] > first[2] > 0  # tags with history: some periods closed, some open
    assert first[3:] == (5, 60)
    call_command("seed_demo", "--calibrations", "60", "--readings", "12", stdout=out)
    assert _counts() == first
    assert "Calibrations: 0 created, 60 already there." in out.getvalue()


def test_a_bigger_seed_adds_only_what_is_missing() -> None:
    call_command("seed_demo", "--calibrations", "20", "--readings", "0", stdout=StringIO())
    kept = set(Calibration.objects.values_list("pk", flat=True))
    call_command("seed_demo", "--calibrations", "50", "--readings", "0", stdout=StringIO())
    assert Calibration.objects.count() == 50
    assert kept <= set(Calibration.objects.values_list("pk", flat=True))


def test_long_runs_show_a_progress_bar_on_stderr() -> None:
    err = StringIO()
    call_command(
        "seed_demo", "--calibrations", "0", "--readings", "500", stdout=StringIO(), stderr=err
    )
    bar = err.getvalue()
    assert "readings" in bar
    assert "100%" in bar
    assert "2500/2500" in bar


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
    assert _counts() == (0, 0, 0, 0, 0)
