"""`manage.py room_report`: each room's range, statistics and excursions, as a table or CSV."""

import csv
import math
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rooms(now: datetime) -> None:
    """balance (18–22 °C): 20 at 11:00, 23 at 11:30, 16 at 11:45 (still too cold at noon), and
    30 the day before; attic: no range, one reading."""
    balance = RoomFactory(room_id="balance", name="Balance room", min_c=18.0, max_c=22.0)
    for minutes, value in [(-60, 20.0), (-30, 23.0), (-15, 16.0), (-60 * 24, 30.0)]:
        MeasurementFactory(room=balance, timestamp=now + timedelta(minutes=minutes), value=value)
    MeasurementFactory(room=RoomFactory(room_id="attic"), timestamp=now - timedelta(minutes=5))


def _run(*args: str) -> str:
    out = StringIO()
    call_command("room_report", *args, stdout=out)
    return out.getvalue()


def test_the_table_gives_each_rooms_range_statistics_and_excursions(rooms: None) -> None:
    lines = _run("--since", "1h").splitlines()
    assert lines[0].startswith("Rooms over the last PT1H: 2025-06-01T11:00:00+00:00 to")
    rows = {line.split()[0]: line.split() for line in lines[3:]}
    # 3 readings; mean 59 / 3; time-weighted (20 × 30 + 23 × 15 + 16 × 15) / 60 = 19.75;
    # MKT 20.08 (ΔH/R = 10,000 K, the same weights); one excursion above (11:30–11:45) and one below (11:45,
    # ongoing at noon): 30 minutes; none had begun before the window (20 °C at 11:00).
    assert rows["balance"] == [
        "balance", "18–22", "3", "19.67", "19.75", "20.08", "16.00", "23.00", "2", "0", "30",
        "min", "00", "s",
    ]  # fmt: skip
    assert rows["attic"] == [
        "attic", "-", "1", "21.50", "21.50", "21.50", "21.50", "21.50", "-", "-", "-"
    ]  # fmt: skip


def test_the_default_window_is_seven_days_and_rooms_can_be_chosen(rooms: None) -> None:
    week = _run("--room", "balance").splitlines()
    assert "P7D" in week[0]
    assert [line.split()[0] for line in week[3:]] == ["balance"]
    assert week[3].split()[2] == "4"  # the day-old reading counts too
    both = _run("--room", "attic", "--room", "balance", "attic").splitlines()
    assert [line.split()[0] for line in both[3:]] == ["attic", "balance"]


def test_the_csv_has_one_row_per_room_with_exact_figures(rooms: None, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    assert "Wrote 2 room(s)" in _run("--since", "PT1H", "--output", str(target))
    with target.open(newline="") as file:
        rows = {row["room_id"]: row for row in csv.DictReader(file)}
    balance = rows["balance"]
    assert balance["name"] == "Balance room"
    assert (balance["range_min_c"], balance["range_max_c"]) == ("18.0", "22.0")
    assert balance["readings"] == "3"
    assert float(balance["mean_c"]) == pytest.approx(59 / 3)
    assert float(balance["time_weighted_c"]) == pytest.approx(19.75)
    # (ΔH/R) / −ln(Σ wᵢ·exp(−(ΔH/R)/Tᵢ) / Σ wᵢ) − 273.15 with weights 30, 15, 15 minutes.
    expected = 10_000 / -math.log(
        (30 * math.exp(-10_000 / 293.15) + 15 * math.exp(-10_000 / 296.15)
         + 15 * math.exp(-10_000 / 289.15)) / 60
    ) - 273.15  # fmt: skip
    assert float(balance["mkt_c"]) == pytest.approx(expected, rel=1e-12)
    assert balance["excursions_started_before"] == "0"
    assert (balance["min_c"], balance["max_c"]) == ("16.0", "23.0")
    assert (balance["excursions"], balance["time_outside_s"]) == ("2", "1800.0")
    assert balance["time_outside"] == "PT30M"
    assert (balance["from"], balance["to"]) == (
        "2025-06-01T11:00:00+00:00",
        "2025-06-01T12:00:00+00:00",
    )
    attic = rows["attic"]
    assert (attic["range_min_c"], attic["excursions"], attic["time_outside_s"]) == ("", "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "--since"),
        (["--since", "P1M"], "years and months"),
        (["--since", "0s"], "positive"),
        (["--room", "nowhere", "balance"], "unknown room(s): nowhere"),
        (["--output", "{tmp}/report.txt"], "must end in .csv"),
        (["--output", "{tmp}/missing/report.csv"], "no such folder"),
        (["--output", "{tmp}/exists.csv"], "already exists"),
    ],
)
def test_bad_arguments_are_refused_clearly_and_write_nothing(
    rooms: None, tmp_path: Path, args: list[str], message: str
) -> None:
    (tmp_path / "exists.csv").write_text("keep me")
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _run(*[arg.format(tmp=tmp_path) for arg in args])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists.csv"]
    assert (tmp_path / "exists.csv").read_text() == "keep me"
