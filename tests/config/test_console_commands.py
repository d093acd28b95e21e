"""Commands README relies on: API accounts, a dry run that refuses what the run refuses,
and demo data that a second run leaves alone."""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Min
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.permissions import is_sensor_account
from measurements import clock
from measurements.models import Measurement
from tagging.models import Tag

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_create_api_user_prints_a_working_token_of_an_integrator() -> None:
    key = run("create_api_user", "alice").strip()
    assert Token.objects.get(key=key).user.username == "alice"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.post(
        "/api/calibrations", {"calibration_type": "gain", "value": 1.5}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["username"] == "alice"


def test_create_api_user_sensor_makes_an_account_that_only_posts_readings() -> None:
    key = run("create_api_user", "probe", "--sensor").strip()
    assert is_sensor_account(User.objects.get(username="probe"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/calibrations").status_code == 403
    reading = client.post("/api/measurements/lab-9", {"value": 20.0}, format="json")
    assert reading.status_code == 201


def test_create_api_user_run_again_keeps_the_token_and_refuses_staff() -> None:
    assert run("create_api_user", "alice") == run("create_api_user", "alice")
    User.objects.create_superuser("boss", password="x-pass-123")
    with pytest.raises(CommandError, match="staff account"):
        run("create_api_user", "boss")


@pytest.mark.parametrize(
    "name", ["bad name with spaces", "", "  ", "tab\there", "x" * 151, "semi;colon"]
)
def test_create_api_user_refuses_a_name_django_would_not_take_and_creates_no_one(
    name: str,
) -> None:
    with pytest.raises(CommandError, match=r"username: .* is refused"):
        run("create_api_user", name)
    assert not User.objects.exists()
    assert not Token.objects.exists()


def test_create_api_user_takes_the_characters_django_allows() -> None:
    key = run("create_api_user", "lab.1-sensor_2+x@lab").strip()
    assert Token.objects.get(key=key).user.username == "lab.1-sensor_2+x@lab"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("readings.txt", "must end in .csv.gz or .jsonl.gz"),
        ("missing-folder/readings.csv.gz", "No such file or directory"),
        ("exists.csv.gz", "already exists"),
    ],
)
def test_archive_dry_run_refuses_the_output_the_real_run_refuses(
    tmp_path: Path, name: str, message: str
) -> None:
    (tmp_path / "exists.csv.gz").write_bytes(b"")
    target = tmp_path / name
    for extra in (["--dry-run"], []):
        with pytest.raises(CommandError, match=message):
            run("archive_measurements", "--older-than", "P90D", "--output", str(target), *extra)
    assert not (tmp_path / "missing-folder").exists()


def test_archive_dry_run_accepts_a_good_output_and_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "readings.csv.gz"
    out = run("archive_measurements", "--older-than", "P90D", "--output", str(target), "--dry-run")
    assert "Dry run" in out
    assert not target.exists()


def test_seed_demo_run_twice_adds_nothing_and_its_tags_predate_their_periods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Both runs at one instant: a run later adds the readings due since, by design, so two runs
    # either side of a whole ten minutes would differ by one reading a room.
    instant = clock.now()
    monkeypatch.setattr(clock, "now", lambda: instant)
    run("seed_demo", "--calibrations", "40", "--readings", "30")
    readings = Measurement.objects.count()
    second = run("seed_demo", "--calibrations", "40", "--readings", "30")
    assert "Calibrations: 0 created" in second
    assert "Readings: 0 created" in second
    assert Measurement.objects.count() == readings
    for tag in Tag.objects.annotate(first=Min("assignments__added_at")):
        assert tag.first is None or tag.created_at <= tag.first  # type: ignore[attr-defined]
