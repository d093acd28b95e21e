"""Rooms and readings in the operator console: a chart and averages, fast changelists."""

import re
from datetime import timedelta

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
    assert "r28" not in page


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
