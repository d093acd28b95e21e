"""The snapshot's read-ahead under load (PostgreSQL): a thread fetches a cursor's next blocks on
the request's own connection while the request writes the current one (`ReadAhead` in
calibrations/snapshot.py). Many downloads at once through a real HTTP server, a third of them
hung up after their first bytes, must each come whole and in order, leave no reader thread
behind, and leave every connection usable."""

import http.client
import json
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.authtoken.models import Token

from calibrations import snapshot
from calibrations.models import CalibrationType
from calibrations.services import NewCalibration, calibrations_create_many
from tagging.services import tags_add
from tests.factories import UserFactory

DONE = datetime(2025, 4, 1, 10, tzinfo=UTC)
DOWNLOADS = 24
CALIBRATIONS = 400


def readers_alive() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "snapshot-read-ahead" and t.is_alive()]


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_many_downloads_at_once_each_come_whole_and_leave_no_reader(
    live_server,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Blocks of 7 rows: each file is ~60 blocks, so readers and writers hand over many times.
    monkeypatch.setattr(snapshot, "CHUNK", 7)
    gain = CalibrationType.objects.get_or_create(name="gain")[0]
    made = calibrations_create_many(
        NewCalibration(
            calibration_type=gain,
            value=float(n),
            username="alice",
            timestamp=DONE + timedelta(seconds=n % 50),
        )
        for n in range(CALIBRATIONS)
    )
    for calibration in made[::2]:
        tags_add(calibration=calibration, names=["half"], user=None)
    expected_all = [str(c.pk) for c in sorted(made, key=lambda c: (c.timestamp, str(c.pk)))]
    halves = {str(c.pk) for c in made[::2]}
    expected_half = [pk for pk in expected_all if pk in halves]
    key = Token.objects.create(user=UserFactory(username="reader")).key
    host = urllib.parse.urlsplit(live_server.url).netloc

    def download(index: int) -> list[str] | None:
        path = "/api/snapshot" if index % 2 else "/api/snapshot?tag=half"
        conn = http.client.HTTPConnection(host, timeout=60)
        try:
            conn.request("GET", path, headers={"Authorization": f"Token {key}"})
            response = conn.getresponse()
            assert response.status == 200
            if index % 3 == 0:
                response.read(200)  # the client hangs up after its first bytes
                return None
            return [json.loads(line)["calibration_id"] for line in response.read().splitlines()]
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        files = list(pool.map(download, range(DOWNLOADS)))

    for index, ids in enumerate(files):
        if ids is not None:
            assert ids == (expected_all if index % 2 else expected_half), f"download {index}"
    deadline = time.monotonic() + 30
    while readers_alive():  # a hung-up download is noticed at the server's next write
        assert time.monotonic() < deadline, f"readers left behind: {readers_alive()}"
        time.sleep(0.05)
    # Every server connection is still usable: more whole files, one after another.
    for index in (1, 2):
        assert download(index) == (expected_all if index % 2 else expected_half)
