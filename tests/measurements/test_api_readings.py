"""A room's readings, its bucketed series, and the rooms list with each room's last reading."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, 10, tzinfo=UTC)


def test_readings_are_listed_newest_first_with_cursor_pages(reader_client: APIClient) -> None:
    room = RoomFactory(room_id="lab-1")
    for i in range(5):
        MeasurementFactory(room=room, timestamp=T0 + timedelta(minutes=i), value=20.0 + i)
    MeasurementFactory(timestamp=T0 + timedelta(hours=1))  # another room
    first = reader_client.get("/api/measurements/lab-1", {"page_size": 3}).json()
    assert [r["value"] for r in first["results"]] == [24.0, 23.0, 22.0]
    assert first["results"][0] == {
        "room_id": "lab-1",
        "timestamp": "2025-04-01T10:04:00Z",
        "value": 24.0,
        "unit": "C",
        "sensor": "",
        "instrument": None,
    }
    assert first["previous"] is None
    second = reader_client.get(first["next"]).json()
    assert [r["value"] for r in second["results"]] == [21.0, 20.0]
    assert second["next"] is None


def test_readings_of_the_same_instant_from_several_sensors_page_without_loss(
    reader_client: APIClient,
) -> None:
    room = RoomFactory(room_id="lab-1")
    for sensor in "abcdefg":
        MeasurementFactory(room=room, timestamp=T0, sensor=sensor)
    seen: list[str] = []
    url: str | None = "/api/measurements/lab-1?page_size=2"
    while url:
        page = reader_client.get(url).json()
        seen += [r["sensor"] for r in page["results"]]
        url = page["next"]
    assert sorted(seen) == list("abcdefg")


def test_readings_are_filtered_by_inclusive_bounds_and_converted(reader_client: APIClient) -> None:
    room = RoomFactory(room_id="lab-1")
    for i in range(5):
        MeasurementFactory(room=room, timestamp=T0 + timedelta(minutes=i), value=0.0 + i)
    response = reader_client.get(
        "/api/measurements/lab-1",
        # An unencoded `+` arrives as a space and still means `+`.
        {"from": "2025-04-01T12:01:00 02:00", "to": "2025-04-01T10:03:00Z", "unit": "F"},
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["timestamp"][11:16] for r in results] == ["10:03", "10:02", "10:01"]
    assert [r["value"] for r in results] == pytest.approx([37.4, 35.6, 33.8])
    assert {r["unit"] for r in results} == {"F"}


@pytest.mark.parametrize(
    "query",
    [{"from": "yesterday"}, {"to": "2025-04-01"}, {"unit": "X"}, {"page_size": "0"}],
)
def test_a_bad_readings_query_is_a_400(reader_client: APIClient, query: dict[str, str]) -> None:
    MeasurementFactory(room=RoomFactory(room_id="lab-1"))
    response = reader_client.get("/api/measurements/lab-1", query)
    assert response.status_code == 400
    assert response.json()


def test_readings_of_an_unknown_room_are_a_404(reader_client: APIClient) -> None:
    assert reader_client.get("/api/measurements/nowhere").status_code == 404
    assert reader_client.get("/api/measurements/bad%00id").status_code == 404


def test_readings_list_query_count_does_not_grow_with_the_page_size(
    reader_client: APIClient,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory.create_batch(40, room=room)
    # token user, its permissions (direct, through groups: the sensor-account rule), the
    # room, the page of readings.
    with django_assert_num_queries(5):
        response = reader_client.get("/api/measurements/lab-1", {"page_size": 40})
    assert len(response.json()["results"]) == 40


def test_series_buckets_are_aligned_to_the_epoch_and_leave_out_empty_buckets(
    reader_client: APIClient,
) -> None:
    room = RoomFactory(room_id="lab-1")
    for minute, value in [(0, 10.0), (59, 20.0), (60, 30.0), (179, 40.0)]:
        MeasurementFactory(room=room, timestamp=T0 + timedelta(minutes=minute), value=value)
    response = reader_client.get(
        "/api/measurements/lab-1/series",
        {"bucket": "1h", "from": "2025-04-01T09:30:00Z", "to": "2025-04-01T13:00:00Z"},
    )
    assert response.status_code == 200
    assert response.json() == [
        {"start": "2025-04-01T10:00:00Z", "average": 15.0, "min": 10.0, "max": 20.0, "count": 2},
        {"start": "2025-04-01T11:00:00Z", "average": 30.0, "min": 30.0, "max": 30.0, "count": 1},
        {"start": "2025-04-01T12:00:00Z", "average": 40.0, "min": 40.0, "max": 40.0, "count": 1},
    ]


def test_series_buckets_of_odd_widths_start_at_multiples_of_the_width_since_the_epoch(
    reader_client: APIClient,
) -> None:
    width, epoch = timedelta(minutes=7), datetime(1970, 1, 1, tzinfo=UTC)
    boundary = epoch + ((T0 - epoch) // width + 1) * width  # the first after 10:00, not 10:07
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room, timestamp=boundary - timedelta(microseconds=1), value=1.0)
    MeasurementFactory(room=room, timestamp=boundary, value=2.0)
    MeasurementFactory(room=room, timestamp=boundary + width - timedelta(microseconds=1), value=3.0)
    body = reader_client.get(
        "/api/measurements/lab-1/series",
        {"bucket": "PT7M", "from": "2025-04-01T10:00:00Z", "to": "2025-04-01T11:00:00Z"},
    ).json()
    assert [(datetime.fromisoformat(b["start"]), b["count"], b["average"]) for b in body] == [
        (boundary - width, 1, 1.0),
        (boundary, 2, 2.5),
    ]


def test_series_defaults_to_hourly_buckets_over_the_last_week_and_converts(
    reader_client: APIClient, now: datetime
) -> None:
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room, timestamp=now - timedelta(days=8), value=0.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(days=6, minutes=30), value=100.0)
    body = reader_client.get("/api/measurements/lab-1/series", {"unit": "K"}).json()
    assert len(body) == 1
    assert body[0]["average"] == pytest.approx(373.15)
    assert body[0]["start"] == "2025-05-26T11:00:00Z"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"bucket": "1s", "from": "2025-04-01T00:00:00Z", "to": "2025-04-02T00:00:00Z"}, "bucket"),
        ({"bucket": "P1M"}, "bucket"),
        ({"bucket": "0s"}, "bucket"),
        ({"bucket": "often"}, "bucket"),
        ({"from": "2025-04-02T00:00:00Z", "to": "2025-04-01T00:00:00Z"}, "from"),
        ({"from": "nope"}, "from"),
        ({"to": "0001-01-01T00:00:00Z"}, "to"),
        ({"from": "0001-01-01T00:00:00Z", "to": "0001-01-02T00:00:00Z", "bucket": "P7D"}, "from"),
        ({"unit": "kelvin"}, "unit"),
    ],
)
def test_a_bad_series_query_is_a_400_naming_the_parameter(
    reader_client: APIClient, query: dict[str, str], field: str
) -> None:
    MeasurementFactory(room=RoomFactory(room_id="lab-1"))
    response = reader_client.get("/api/measurements/lab-1/series", query)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_series_of_exactly_ten_thousand_buckets_is_answered(reader_client: APIClient) -> None:
    MeasurementFactory(room=RoomFactory(room_id="lab-1"), timestamp=T0)
    query = {"bucket": "1s", "from": "2025-04-01T10:00:00Z", "to": "2025-04-01T12:46:39Z"}
    response = reader_client.get("/api/measurements/lab-1/series", query)
    assert response.status_code == 200
    query["to"] = "2025-04-01T12:46:40Z"
    assert reader_client.get("/api/measurements/lab-1/series", query).status_code == 400


def test_series_of_an_unknown_room_is_a_404(reader_client: APIClient) -> None:
    assert reader_client.get("/api/measurements/nowhere/series").status_code == 404


def test_rooms_are_listed_by_id_with_their_last_reading(reader_client: APIClient) -> None:
    lab = RoomFactory(room_id="lab-1", name="Lab one")
    MeasurementFactory(room=lab, timestamp=T0, value=20.0)
    MeasurementFactory(room=lab, timestamp=T0 + timedelta(minutes=5), value=22.5)
    MeasurementFactory(room=lab, timestamp=T0 - timedelta(days=1), value=99.0)
    RoomFactory(room_id="empty")
    body = reader_client.get("/api/rooms").json()
    assert [room["room_id"] for room in body["results"]] == ["empty", "lab-1"]
    empty, lab_1 = body["results"]
    assert empty["last_reading"] is None
    assert lab_1["name"] == "Lab one"
    assert lab_1["last_reading"] == {
        "timestamp": "2025-04-01T10:05:00Z",
        "value": 22.5,
        "unit": "C",
    }
    one = reader_client.get("/api/rooms/lab-1/").json()
    assert one == lab_1
    in_kelvin = reader_client.get("/api/rooms/lab-1", {"unit": "K"}).json()["last_reading"]
    assert (in_kelvin["value"], in_kelvin["unit"]) == (pytest.approx(295.65), "K")
    assert reader_client.get("/api/rooms", {"unit": "kelvin"}).status_code == 400
    assert reader_client.get("/api/rooms/nowhere").status_code == 404
    assert reader_client.get("/api/rooms/bad%00id").status_code == 404


def test_rooms_list_query_count_does_not_grow_with_the_page_size(
    reader_client: APIClient,
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for room in RoomFactory.create_batch(30):
        MeasurementFactory.create_batch(2, room=room)
    # token user, its permissions (direct, through groups), the page of rooms with their
    # last readings.
    with django_assert_num_queries(4):
        response = reader_client.get("/api/rooms", {"page_size": 30})
    results = response.json()["results"]
    assert len(results) == 30
    assert all(room["last_reading"] is not None for room in results)


def test_measurement_routes_answer_with_and_without_trailing_slash_without_redirect(
    client_for, superuser
) -> None:  # type: ignore[no-untyped-def]
    client = client_for(superuser)
    reading = {"value": 21.5, "timestamp": "2025-04-01T10:00:00Z"}
    first = client.post("/api/measurements/lab.1", reading, format="json")
    again = client.post("/api/measurements/lab.1/", reading, format="json")
    assert (first.status_code, again.status_code) == (201, 200)  # one room, one reading
    assert again.json()["room_id"] == "lab.1"
    for path in (
        "/api/measurements/lab.1",
        "/api/measurements/lab.1/average/PT1H",
        "/api/measurements/lab.1/series",
        "/api/rooms",
        "/api/rooms/lab.1",
    ):
        assert client.get(path).status_code == 200, path
        assert client.get(f"{path}/").status_code == 200, f"{path}/"
