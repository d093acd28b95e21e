"""Rooms and readings in the operator console: a chart and averages, fast changelists."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from measurements.models import ArchivedMeasurement, Room
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

ROOMS = "/admin/measurements/room/"
READINGS = "/admin/measurements/measurement/"


def _queries(client: Client, url: str, params: dict[str, str] | None = None) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params or {}).status_code == 200
    return len(queries)


def _average_points(page: str) -> int:
    match = re.search(r'<polyline class="average" points="([^"]*)"', page)
    assert match, "no average line on the page"
    return len(match[1].split())


@pytest.fixture
def lab(now) -> Room:  # type: ignore[no-untyped-def]
    """lab-1 with a reading every 20 minutes over the last 10 days: 21 °C, except 25 °C in the
    last half hour and 15 °C three days ago."""
    room = RoomFactory(room_id="lab-1", name="Optics lab")
    for step in range(10 * 72):
        age = timedelta(minutes=20 * step)
        value = 25.0 if age < timedelta(minutes=30) else 21.0
        if timedelta(days=3) <= age < timedelta(days=3, minutes=20):
            value = 15.0
        MeasurementFactory(room=room, timestamp=now - age, value=value)
    return room


def test_a_rooms_page_charts_the_last_24_hours_and_shows_its_averages(
    admin_client: Client, lab: Room
) -> None:
    page = admin_client.get(f"{ROOMS}lab-1/change/").content.decode()
    assert '<svg class="temperature-chart"' in page
    # 15-minute points over 24 hours: one per bucket holding a reading (one every 20 minutes).
    assert 70 <= _average_points(page) <= 73
    averages = {
        key: re.search(rf'<tr class="average-{key}">(.*?)</tr>', page, re.S)[1]  # type: ignore[index]
        for key in ("1h", "1d", "1w")
    }
    # Last hour: readings at 0, 20, 40 and 60 minutes (both ends count): 25, 25, 21, 21.
    assert "23.00 °C" in averages["1h"]
    assert ">4<" in averages["1h"]
    assert "15.00 °C" in averages["1w"]  # the week's minimum
    assert "15.00 °C" not in averages["1d"]
    assert "Last 7 days" in page


def test_the_7_day_chart_is_on_request_and_a_bad_period_falls_back_to_24_hours(
    admin_client: Client, lab: Room
) -> None:
    week = admin_client.get(f"{ROOMS}lab-1/change/", {"chart": "7d"}).content.decode()
    assert 160 <= _average_points(week) <= 169  # hourly points over a week
    fallback = admin_client.get(f"{ROOMS}lab-1/change/", {"chart": "<x>"}).content.decode()
    assert 70 <= _average_points(fallback) <= 73


def test_a_room_without_recent_readings_says_so(admin_client: Client, now) -> None:  # type: ignore[no-untyped-def]
    MeasurementFactory(room=RoomFactory(room_id="attic"), timestamp=now - timedelta(days=30))
    page = admin_client.get(f"{ROOMS}attic/change/").content.decode()
    assert "No readings in this period." in page


def test_the_room_list_shows_last_readings_without_a_query_per_room(
    admin_client: Client, now
) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        MeasurementFactory(room=RoomFactory(room_id=f"r{i}"), timestamp=now, value=20 + i)
    few = _queries(admin_client, ROOMS)
    for i in range(5, 30):
        MeasurementFactory(room=RoomFactory(room_id=f"r{i}"), timestamp=now, value=20 + i)
    assert _queries(admin_client, ROOMS) == few <= 8
    page = admin_client.get(ROOMS, {"q": "r29"}).content.decode()
    assert "49.00 °C" in page
    assert "/room/r28/change/" not in page  # (not "r28": a CSRF token may hold it)


def test_the_readings_list_does_not_grow_in_queries_and_filters_by_room(
    admin_client: Client, now
) -> None:  # type: ignore[no-untyped-def]
    one, two = RoomFactory(room_id="one"), RoomFactory(room_id="two")
    for i in range(10):
        MeasurementFactory(room=one, timestamp=now - timedelta(minutes=i), value=10 + i)
    few = _queries(admin_client, READINGS)
    for i in range(80):
        MeasurementFactory(room=two, timestamp=now - timedelta(minutes=i), value=30)
    assert _queries(admin_client, READINGS) == few <= 8
    page = admin_client.get(READINGS, {"room__exact": "one"}).content.decode()
    assert page.count('class="field-celsius"') == 10
    # One room's readings come newest first.
    values = re.findall(r'class="field-celsius">([\d.]+) °C', page)
    assert values[0] == "10.00"
    assert values[-1] == "19.00"
    searched = admin_client.get(READINGS, {"q": "one"}).content.decode()
    assert searched.count('class="field-celsius"') == 10


def test_readings_are_not_edited_in_the_admin_and_archived_ones_are_read_only(
    admin_client: Client, now
) -> None:  # type: ignore[no-untyped-def]
    reading = MeasurementFactory(timestamp=now)
    assert admin_client.get(f"{READINGS}add/").status_code == 403
    response = admin_client.post(f"{READINGS}{reading.pk}/change/", {"value": "99"})
    assert response.status_code == 403
    reading.refresh_from_db()
    assert reading.value == 21.5
    archived = ArchivedMeasurement.objects.create(
        room=reading.room, timestamp=now, sensor="", value=20.0, archived_at=now
    )
    assert admin_client.get("/admin/measurements/archivedmeasurement/").status_code == 200
    response = admin_client.post(
        f"/admin/measurements/archivedmeasurement/{archived.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert ArchivedMeasurement.objects.filter(pk=archived.pk).exists()


# --- Range, status and excursions (issue 14) --------------------------------------------------


@pytest.fixture
def balance_room(now) -> Room:  # type: ignore[no-untyped-def]
    """A balance room at 20 ± 2 °C: a reading every 10 minutes over the last day, too warm
    from 10 h to 8 h ago, too cold 3 h ago, and too warm again for the last 20 minutes."""
    room = RoomFactory(room_id="balance", name="Balance room", min_c=18.0, max_c=22.0)
    for step in range(6 * 24):
        age = timedelta(minutes=10 * step)
        value = 20.0
        if timedelta(hours=8) < age <= timedelta(hours=10):
            value = 23.5
        if age == timedelta(hours=3):
            value = 16.25
        if age <= timedelta(minutes=20):
            value = 22.5
        MeasurementFactory(room=room, timestamp=now - age, value=value)
    return room


def test_the_rooms_list_shows_status_in_colour_and_text_and_filters_by_it(
    admin_client: Client, now
) -> None:  # type: ignore[no-untyped-def]
    hot = RoomFactory(room_id="hot", min_c=18.0, max_c=22.0)
    MeasurementFactory(room=hot, timestamp=now - timedelta(minutes=2), value=25.0)
    fine = RoomFactory(room_id="fine", min_c=18.0, max_c=22.0)
    MeasurementFactory(room=fine, timestamp=now - timedelta(minutes=3), value=18.0)
    old = RoomFactory(room_id="old", min_c=18.0, max_c=22.0)
    MeasurementFactory(room=old, timestamp=now - timedelta(hours=5), value=20.0)
    RoomFactory(room_id="new")
    page = admin_client.get(ROOMS).content.decode()
    assert '<span class="room-status room-status-high">High</span>' in page
    assert '<span class="room-status room-status-ok">OK</span>' in page
    assert '<span class="room-status room-status-stale">Stale</span>' in page
    assert '<span class="room-status room-status-no_data">No data</span>' in page
    assert "2\xa0minutes ago" in page
    assert "5\xa0hours ago" in page
    assert "18 – 22 °C" in page
    high = admin_client.get(ROOMS, {"status": "high"}).content.decode()
    assert 'href="/admin/measurements/room/hot/change/' in high
    assert 'href="/admin/measurements/room/fine/change/' not in high
    stale = admin_client.get(ROOMS, {"status": "stale"}).content.decode()
    assert 'href="/admin/measurements/room/old/change/' in stale
    assert 'href="/admin/measurements/room/hot/change/' not in stale


def test_the_rooms_list_with_status_is_a_fixed_number_of_queries(admin_client: Client, now) -> None:  # type: ignore[no-untyped-def]
    for i in range(3):
        room = RoomFactory(room_id=f"r{i:02d}", min_c=18.0, max_c=22.0)
        MeasurementFactory(room=room, timestamp=now, value=17 + i * 3)
    few = _queries(admin_client, ROOMS, {"status": "ok"})
    for i in range(3, 40):
        room = RoomFactory(room_id=f"r{i:02d}", min_c=18.0, max_c=22.0)
        MeasurementFactory(room=room, timestamp=now, value=17 + i % 3 * 3)
    # session, user, the filtered count, the full count, the page of rooms (status and last
    # reading as subqueries): the same whatever the number of rooms.
    assert _queries(admin_client, ROOMS, {"status": "ok"}) == few <= 8


def test_the_room_page_shades_the_range_marks_and_lists_the_excursions(
    admin_client: Client, balance_room: Room
) -> None:
    page = admin_client.get(f"{ROOMS}balance/change/").content.decode()
    assert '<rect class="acceptable"' in page
    assert "Acceptable range: 18 to 22 °C" in page
    assert page.count('<rect class="excursion excursion-high"') == 2
    assert page.count('<rect class="excursion excursion-low"') == 1
    assert '<span class="room-status room-status-high">High</span>' in page  # the status
    rows = re.findall(r'<tr class="excursion excursion-(\w+)">(.*?)</tr>', page, re.S)
    # Newest first: the ongoing one, the cold reading, the warm spell.
    assert [kind for kind, _ in rows] == ["high", "low", "high"]
    ongoing, cold, warm = (cells for _, cells in rows)
    assert "still outside" in ongoing
    assert "22.50 °C" in ongoing
    assert "2025-06-01 09:00:00 UTC" in cold  # three hours before noon
    assert "2025-06-01 09:10:00 UTC" in cold  # the next reading, back inside
    assert "16.25 °C" in cold
    assert "2 h 00 min" in warm
    assert "23.50 °C" in warm
    assert "3 excursions" in page


def test_a_room_without_a_range_says_it_has_no_excursions(admin_client: Client, lab: Room) -> None:
    page = admin_client.get(f"{ROOMS}lab-1/change/").content.decode()
    assert "No acceptable range was in force" in page
    assert '<rect class="acceptable"' not in page
    assert '<span class="room-status room-status-no_range">No range</span>' in page


def _change(client: Client, room_id: str, **fields: str) -> Any:
    room = Room.objects.get(pk=room_id)
    data = {"name": room.name, "min_c": room.min_c or "", "max_c": room.max_c or "", **fields}
    return client.post(f"{ROOMS}{room_id}/change/", data)


def test_staff_set_change_and_clear_a_range_on_the_room_page(
    admin_client: Client, lab: Room
) -> None:
    response = _change(admin_client, "lab-1", min_c="20", max_c="22.5")
    assert response.status_code == 302, response.content
    lab.refresh_from_db()
    assert (lab.min_c, lab.max_c) == (20.0, 22.5)
    assert _change(admin_client, "lab-1", name="Optics").status_code == 302
    lab.refresh_from_db()
    assert (lab.name, lab.min_c, lab.max_c) == ("Optics", 20.0, 22.5)
    cleared = _change(admin_client, "lab-1", min_c="", max_c="", change_reason="Room emptied")
    assert cleared.status_code == 302
    lab.refresh_from_db()
    assert (lab.min_c, lab.max_c) == (None, None)


@pytest.mark.parametrize(
    ("min_c", "max_c", "message"),
    [
        ("20", "", "both bounds"),
        ("", "22", "both bounds"),
        ("22", "22", "must be below the maximum"),
        ("25", "22", "must be below the maximum"),
        ("-300", "22", "from -273.15 °C"),
        ("inf", "22", "Enter a number"),
        ("nan", "22", "Enter a number"),
    ],
)
def test_a_bad_range_on_the_room_page_is_refused_and_changes_nothing(
    admin_client: Client, lab: Room, min_c: str, max_c: str, message: str
) -> None:
    response = _change(admin_client, "lab-1", name="Changed", min_c=min_c, max_c=max_c)
    assert response.status_code == 200  # the form again, with the error
    assert message in response.content.decode()
    lab.refresh_from_db()
    assert (lab.name, lab.min_c, lab.max_c) == ("Optics lab", None, None)


def test_staff_register_a_room_with_its_range_before_its_first_reading(
    admin_client: Client,
) -> None:
    data = {"room_id": "vault", "name": "Vault", "min_c": "15", "max_c": "25"}
    assert admin_client.post(f"{ROOMS}add/", data).status_code == 302
    vault = Room.objects.get(pk="vault")
    assert (vault.name, vault.min_c, vault.max_c) == ("Vault", 15.0, 25.0)
    bad = {"room_id": "vault-2", "name": "", "min_c": "25", "max_c": "15"}
    assert admin_client.post(f"{ROOMS}add/", bad).status_code == 200
    assert not Room.objects.filter(pk="vault-2").exists()
