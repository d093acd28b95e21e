"""`calibrations_due` (DESIGN §6): the instruments out of tolerance, overdue or due within a
duration, soonest first, as a table or CSV; exit status 0 either way; bad arguments refused."""

import csv
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from calibrations.models import Instrument
from calibrations.services import calibration_create
from tests.factories import CalibrationTypeFactory, InstrumentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def register() -> None:
    """late (due 35 days ago), broken (found out of tolerance 3 days ago), soon (due in 20
    days), later (due in 50 days), fine (due in a year), retired (overdue but retired)."""
    check = CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)
    now = timezone.now()
    for instrument_id, interval, days_ago, error in (
        ("late", 100, 135, 0.1),
        ("broken", 365, 3, 0.9),
        ("soon", 100, 80, 0.1),
        ("later", 100, 50, 0.1),
        ("fine", 400, 35, 0.1),
        ("retired", 10, 100, 0.1),
    ):
        InstrumentFactory(instrument_id=instrument_id, calibration_interval_days=interval)
        calibration_create(
            calibration_type=check,
            value=error,
            username="a",
            timestamp=now - timedelta(days=days_ago),
            instrument_id=instrument_id,
        )
    InstrumentFactory(instrument_id="new")  # never calibrated: nothing is due
    Instrument.objects.filter(pk="retired").update(retired_at=now - timedelta(days=1))


def run(*args: str) -> str:
    out = StringIO()
    call_command("calibrations_due", *args, stdout=out)
    return out.getvalue()


def test_the_table_lists_what_needs_a_person_soonest_first(register: None) -> None:
    # A report, not a check: it returns normally (exit status 0) with instruments due.
    lines = run().splitlines()
    assert "due within P30D" in lines[0]
    listed = [line.split()[0] for line in lines[3:]]
    # late: due 35 days ago; broken: since its calibration 3 days ago; soon: in 20 days.
    assert listed == ["late", "broken", "soon"]
    assert "Out of tolerance" in lines[4]


def test_within_widens_or_narrows_the_window(register: None) -> None:
    assert [line.split()[0] for line in run("--within", "8w").splitlines()[3:]] == [
        "late",
        "broken",
        "soon",
        "later",
    ]
    assert [line.split()[0] for line in run("--within", "PT1H").splitlines()[3:]] == [
        "late",
        "broken",
    ]


def test_an_empty_list_says_so() -> None:
    assert "None: every instrument is in order." in run()


def test_csv_goes_to_a_new_file(register: None, tmp_path: Path) -> None:
    path = tmp_path / "due.csv"
    assert "Wrote 3 instrument(s)" in run("--output", str(path))
    rows = list(csv.DictReader(path.open()))
    assert [row["instrument_id"] for row in rows] == ["late", "broken", "soon"]
    assert rows[1]["status"] == "out_of_tolerance"
    assert rows[1]["last_in_tolerance"] == "false"
    assert rows[0]["due_at"].endswith("Z")
    assert rows[0]["calibration_interval_days"] == "100"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--within", "P1M"], "--within"),
        (["--within", "-5d"], "--within"),
        (["--within", "soon"], "--within"),
        (["--output", "due.txt"], "must end in .csv"),
        (["--output", "/no/such/folder/due.csv"], "no such folder"),
    ],
)
def test_bad_arguments_are_refused_with_a_message(
    register: None, args: list[str], says: str
) -> None:
    with pytest.raises(CommandError, match=says):
        run(*args)


def test_an_existing_file_is_never_overwritten(register: None, tmp_path: Path) -> None:
    path = tmp_path / "due.csv"
    path.write_text("keep me")
    with pytest.raises(CommandError, match="never overwritten"):
        run("--output", str(path))
    assert path.read_text() == "keep me"
