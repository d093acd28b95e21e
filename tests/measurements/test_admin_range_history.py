"""A room's page in the console with its range history (DESIGN §5): changing a range asks for a
reason, the page and its History list the versions, the chart shades the range in force at
each moment, the excursion table says when a run began before the window, the averages show
the MKT, and a room's readings download as a streamed CSV file."""

import csv
import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from measurements import clock
from measurements.models import Measurement, RangeVersion, Room
from measurements.services import room_update
from tests.factories import MeasurementFactory, RoomFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOMS = "/admin/measurements/room/"
READINGS = "/admin/measurements/measurement/"


def _change(client: Client, room_id: str, **fields: str) -> Any:
    room = Room.objects.get(pk=room_id)
    data = {
        "name": room.name,
        "min_c": "" if room.min_c is None else str(room.min_c),
        "max_c": "" if room.max_c is None else str(room.max_c),
        **fields,
    }
    return client.post(f"{ROOMS}{room_id}/change/", data)


@pytest.fixture
def balance(now: datetime) -> Room:
    """18–22 °C for a week; a reading every 10 minutes over the last day, 21 °C, except
    23.5 °C from 8 h to 6 h ago and 21.5 °C over the last 2 hours."""
    room = RoomFactory(room_id="balance", name="Balance room", min_c=18.0, max_c=22.0)
    RangeVersion.objects.filter(room=room).update(changed_at=now - timedelta(days=7))
    for step in range(6 * 24):
        age = timedelta(minutes=10 * step)
        value = 21.0
        if timedelta(hours=6) <= age <= timedelta(hours=8):
            value = 23.5
        if age <= timedelta(hours=2):
            value = 21.5
        MeasurementFactory(room=room, timestamp=now - age, value=value)
    return room


def test_changing_a_range_the_room_has_asks_for_a_reason_and_keeps_it(
    admin_client: Client, balance: Room
) -> None:
    response = _change(admin_client, "balance", min_c="18", max_c="24")
    assert response.status_code == 200  # the form again
    page = response.content.decode()
    assert "needs a reason" in page
    assert RangeVersion.objects.filter(room=balance).count() == 1
    balance.refresh_from_db()
    assert balance.max_c == 22.0
    response = _change(
        admin_client, "balance", min_c="18", max_c="24", change_reason="Summer limits, SOP-12"
    )
    assert response.status_code == 302, response.content
    version = RangeVersion.objects.of_room(balance).last()
    assert version is not None
    assert (version.version, version.max_c, version.reason) == (2, 24.0, "Summer limits, SOP-12")
    assert version.changed_by == "admin"
    # A save that leaves the range as it is needs no reason and adds no version.
    assert _change(admin_client, "balance", name="Balance").status_code == 302
    assert RangeVersion.objects.filter(room=balance).count() == 2


def test_the_first_range_set_on_the_page_needs_no_reason(admin_client: Client) -> None:
    RoomFactory(room_id="attic")
    assert _change(admin_client, "attic", min_c="10", max_c="30").status_code == 302
    assert [(v.version, v.reason) for v in RangeVersion.objects.of_room("attic")] == [(1, "")]


def test_the_add_form_has_no_reason_and_writes_version_1(admin_client: Client) -> None:
    assert "id_change_reason" not in admin_client.get(f"{ROOMS}add/").content.decode()
    data = {"room_id": "vault", "name": "Vault", "min_c": "15", "max_c": "25"}
    assert admin_client.post(f"{ROOMS}add/", data).status_code == 302
    assert [(v.version, v.changed_by) for v in RangeVersion.objects.of_room("vault")] == [
        (1, "admin")
    ]


def test_the_room_page_lists_the_range_history_and_history_leads_to_it(
    admin_client: Client, balance: Room, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    monkeypatch.setattr(clock, "now", lambda: now - timedelta(hours=3))
    UserFactory(username="quality")
    room_update(room="balance", min_c=18.0, max_c=21.0, reason="Tighter: new balance class")
    monkeypatch.setattr(clock, "now", lambda: now)
    page = admin_client.get(f"{ROOMS}balance/change/").content.decode()
    rows = re.findall(r'<tr class="range-version">(.*?)</tr>', page, re.S)
    assert len(rows) == 2
    assert "18 – 22 °C" in rows[0]
    assert "18 – 21 °C" in rows[1]
    assert "Tighter: new balance class" in rows[1]
    assert "2025-06-01 09:00:00.000000 UTC" in rows[1]
    # Django's History (its log of admin edits) is replaced by the versions.
    history_url = f"{ROOMS}balance/history/"
    assert f'href="{history_url}"' in page
    history = admin_client.get(history_url).content.decode()
    assert history.count('<tr class="range-version">') == 2
    assert "Tighter: new balance class" in history
    assert "Range history: balance" in history
    assert admin_client.get(f"{ROOMS}nowhere/history/").status_code == 404


def test_the_history_needs_the_permission_to_view_rooms(
    client: Client, balance: Room, django_user_model: Any
) -> None:
    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    assert client.get(f"{ROOMS}balance/history/").status_code == 403
    viewer = UserFactory(username="viewer", is_staff=True, permissions=["measurements.view_room"])
    client.force_login(viewer)
    assert client.get(f"{ROOMS}balance/history/").status_code == 200


def test_the_chart_shades_the_range_in_force_at_each_moment(
    admin_client: Client, balance: Room, monkeypatch: pytest.MonkeyPatch, now: datetime
) -> None:
    monkeypatch.setattr(clock, "now", lambda: now - timedelta(hours=12))
    room_update(room="balance", min_c=18.0, max_c=21.0, reason="tighter")
    monkeypatch.setattr(clock, "now", lambda: now)
    page = admin_client.get(f"{ROOMS}balance/change/").content.decode()
    bands = re.findall(
        r'<rect class="acceptable" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="([\d.]+)">'
        r"<title>Acceptable range: (\d+) to (\d+) °C",
        page,
    )
    assert [(low, high) for *_, low, high in bands] == [("18", "22"), ("18", "21")]
    (x1, w1, h1, *_), (x2, w2, h2, *_) = bands
    # Half a day each, side by side; the narrower range is a lower band.
    assert float(x1) + float(w1) == pytest.approx(float(x2), abs=0.2)
    assert float(w1) == pytest.approx(float(w2), abs=0.2)
    assert float(h2) < float(h1)
    # 21.5 °C over the last 2 hours is high under 18–21: a mark, and a row of the table.
    assert page.count('<rect class="excursion excursion-high"') == 2


def test_the_excursion_table_says_when_a_run_began_before_the_window(
    admin_client: Client, now: datetime
) -> None:
    room = RoomFactory(room_id="cold", min_c=2.0, max_c=8.0)
    for hours in (8 * 24, 7 * 24 + 1, 6 * 24):  # outside since before the week began
        MeasurementFactory(room=room, timestamp=now - timedelta(hours=hours), value=9.5)
    MeasurementFactory(room=room, timestamp=now - timedelta(hours=1), value=5.0)
    page = admin_client.get(f"{ROOMS}cold/change/").content.decode()
    rows = re.findall(r'<tr class="excursion excursion-high">(.*?)</tr>', page, re.S)
    assert len(rows) == 1
    assert "began before the window" in rows[0]
    assert "more than" in rows[0]


def test_the_averages_show_the_mkt_beside_them(admin_client: Client, balance: Room) -> None:
    page = admin_client.get(f"{ROOMS}balance/change/").content.decode()
    week = re.search(r'<tr class="average-1w">(.*?)</tr>', page, re.S)
    assert week is not None
    mkt = re.search(r'<td class="mkt">([\d.]+) °C</td>', week[1])
    assert mkt is not None
    # Above the week's 21-ish time-weighted level, below its warmest reading.
    assert 21.0 < float(mkt[1]) < 23.5
    assert "MKT" in page


def _csv_rows(response: StreamingHttpResponse) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return list(csv.reader(io.StringIO(text)))


def test_a_rooms_readings_download_as_csv_from_its_page(
    admin_client: Client, balance: Room, now: datetime
) -> None:
    MeasurementFactory(room=RoomFactory(room_id="other"), timestamp=now, value=5.0)
    page = admin_client.get(f"{ROOMS}balance/change/").content.decode()
    link = re.search(r'href="([^"]+)" id="room-readings-csv"', page)
    assert link is not None
    response = admin_client.get(link[1].replace("&amp;", "&"))
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == (
        'attachment; filename="readings-balance-20250601T120000Z.csv"'
    )
    rows = _csv_rows(response)
    assert rows[0] == ["room_id", "timestamp", "sensor", "value"]
    assert len(rows) == 1 + Measurement.objects.filter(room=balance).count()
    # Oldest first, exact values, UTC instants.
    assert rows[1] == ["balance", "2025-05-31T12:10:00Z", "", "21.0"]
    assert rows[-1] == ["balance", "2025-06-01T12:00:00Z", "", "21.5"]


def test_the_filtered_readings_list_downloads_as_it_is_filtered(
    admin_client: Client, balance: Room, now: datetime
) -> None:
    MeasurementFactory(room=RoomFactory(room_id="other"), timestamp=now, value=5.0)
    page = admin_client.get(READINGS, {"room__exact": "other"}).content.decode()
    link = re.search(r'<a href="([^"]+)" class="export_link" id="export-readings-csv"', page)
    assert link is not None
    assert "room__exact=other" in link[1]
    rows = _csv_rows(admin_client.get(link[1].replace("&amp;", "&")))
    assert rows[1:] == [["other", "2025-06-01T12:00:00Z", "", "5.0"]]
    everything = _csv_rows(admin_client.get(f"{READINGS}export/"))
    assert len(everything) == 1 + Measurement.objects.count()
    bad = admin_client.get(f"{READINGS}export/", {"timestamp__gte": "not a date"})
    assert bad.status_code in (200, 302)


def test_the_readings_download_needs_the_permission_to_view_readings(
    client: Client, balance: Room
) -> None:
    client.force_login(UserFactory(username="clerk", is_staff=True))
    assert client.get(f"{READINGS}export/", {"room__exact": "balance"}).status_code == 403


def test_a_big_download_streams_block_by_block_without_losing_a_reading(
    admin_client: Client, balance: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Blocks of 7 readings: the stream yields many, each a few rows, and loses none.
    monkeypatch.setattr("measurements.exports.CHUNK", 7)
    response = admin_client.get(f"{READINGS}export/", {"room__exact": "balance"})
    assert isinstance(response, StreamingHttpResponse)
    blocks = list(response.streaming_content)
    assert len(blocks) > 20
    rows = list(csv.reader(io.StringIO(b"".join(blocks).decode())))  # type: ignore[arg-type]
    stamps = [row[1] for row in rows[1:]]
    assert stamps == sorted(stamps)
    assert len(stamps) == len(set(stamps)) == Measurement.objects.filter(room=balance).count()
