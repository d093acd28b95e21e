"""`GET /api/measurements/{room_id}/excursions`: runs of readings outside the room's range."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from measurements.models import Room
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, 10, tzinfo=UTC)
URL = "/api/measurements/lab-1/excursions"
# One reading a minute, range 18–22 °C.
VALUES = [20.0, 23.0, 25.0, 22.0, 17.0, 16.0, 23.0, 21.0, 18.0, 24.0]


def _at(minute: int) -> str:
    return (T0 + timedelta(minutes=minute)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def lab() -> Room:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    for minute, value in enumerate(VALUES):
        MeasurementFactory(room=room, timestamp=T0 + timedelta(minutes=minute), value=value)
    return room


def _get(client: APIClient, **query: str) -> dict[str, object]:
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    return body


def test_excursions_are_maximal_runs_on_one_side_with_end_peak_and_count(
    reader_client: APIClient, lab: Room
) -> None:
    body = _get(reader_client, **{"from": _at(0), "to": _at(9)})
    assert body == {
        "room_id": "lab-1",
        "from": _at(0),
        "to": _at(9),
        "unit": "C",
        "min": 18.0,
        "max": 22.0,
        "excursions": [
            # 23, 25 then 22 (exactly on the bound: inside).
            {
                "kind": "high",
                "start": _at(1),
                "end": _at(3),
                "peak": 25.0,
                "readings": 2,
                "started_before": False,
            },
            {
                "kind": "low",
                "start": _at(4),
                "end": _at(6),
                "peak": 16.0,
                "readings": 2,
                "started_before": False,
            },
            # Straight from low to high: a new excursion, ended by 21 at minute 7.
            {
                "kind": "high",
                "start": _at(6),
                "end": _at(7),
                "peak": 23.0,
                "readings": 1,
                "started_before": False,
            },
            # The last reading of the window is outside: still going on, no end.
            {
                "kind": "high",
                "start": _at(9),
                "end": None,
                "peak": 24.0,
                "readings": 1,
                "started_before": False,
            },
        ],
    }


def test_the_window_cuts_runs_and_end_is_null_when_the_next_reading_is_after_to(
    reader_client: APIClient, lab: Room
) -> None:
    body = _get(reader_client, **{"from": _at(2), "to": _at(4)})
    # Minute 2 (25) starts the first run as far as the answer looks; it began before the
    # window (minute 1, 23, was high too). Minute 4 (17) is the last reading in the window,
    # and minute 5 lies beyond `to`.
    assert body["excursions"] == [
        {
            "kind": "high",
            "start": _at(2),
            "end": _at(3),
            "peak": 25.0,
            "readings": 1,
            "started_before": True,
        },
        {
            "kind": "low",
            "start": _at(4),
            "end": None,
            "peak": 17.0,
            "readings": 1,
            "started_before": False,
        },
    ]


def test_readings_of_every_sensor_are_merged_in_time_order(reader_client: APIClient) -> None:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    for seconds, sensor, value in [
        (0, "north", 23.0),
        (30, "south", 24.5),
        (60, "north", 23.5),
        (90, "south", 21.0),
        (120, "north", 17.5),
    ]:
        MeasurementFactory(
            room=room, timestamp=T0 + timedelta(seconds=seconds), sensor=sensor, value=value
        )
    body = _get(reader_client, **{"from": _at(0), "to": _at(10)})
    assert body["excursions"] == [
        {
            "kind": "high",
            "start": _at(0),
            "end": "2025-04-01T10:01:30Z",
            "peak": 24.5,
            "readings": 3,
            "started_before": False,
        },
        {
            "kind": "low",
            "start": "2025-04-01T10:02:00Z",
            "end": None,
            "peak": 17.5,
            "readings": 1,
            "started_before": False,
        },
    ]


def test_the_readings_of_one_instant_count_as_one_their_mean_whatever_the_sensor_names(
    reader_client: APIClient,
) -> None:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    for seconds, sensor, value in [
        (0, "b-north", 23.0),
        (60, "a-south", 25.0),  # one instant: mean 20.5, inside, whichever sensor sorts last
        (60, "b-north", 16.0),
        (120, "a-south", 17.0),
        (180, "b-north", 20.0),
        (240, "a-south", 24.0),  # mean 20.75: inside
        (240, "b-north", 17.5),
        (300, "a-south", 23.0),  # mean 23.5: high; the peak and count are the stored readings'
        (300, "b-north", 24.0),
    ]:
        MeasurementFactory(
            room=room, timestamp=T0 + timedelta(seconds=seconds), sensor=sensor, value=value
        )
    body = _get(reader_client, **{"from": _at(0), "to": _at(10)})
    assert body["excursions"] == [
        {"kind": "high", "start": _at(0), "end": _at(1), "peak": 23.0, "readings": 1, "started_before": False},
        {"kind": "low", "start": _at(2), "end": _at(3), "peak": 17.0, "readings": 1, "started_before": False},
        {"kind": "high", "start": _at(5), "end": None, "peak": 24.0, "readings": 2, "started_before": False},
    ]  # fmt: skip


def test_the_range_and_peaks_are_given_in_the_asked_unit(
    reader_client: APIClient, lab: Room
) -> None:
    body = _get(reader_client, **{"from": _at(0), "to": _at(9), "unit": "F"})
    assert (body["unit"], body["min"], body["max"]) == (
        "F",
        pytest.approx(64.4),
        pytest.approx(71.6),
    )
    peaks = [e["peak"] for e in body["excursions"]]  # type: ignore[attr-defined]
    assert peaks == pytest.approx([77.0, 60.8, 73.4, 75.2])


def test_a_room_without_a_range_has_no_excursions(reader_client: APIClient) -> None:
    room = RoomFactory(room_id="lab-1")
    MeasurementFactory(room=room, timestamp=T0, value=99.0)
    body = _get(reader_client, **{"from": _at(-1), "to": _at(1)})
    assert (body["min"], body["max"], body["excursions"]) == (None, None, [])


def test_the_window_defaults_to_the_last_seven_days(
    reader_client: APIClient, now: datetime
) -> None:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(days=7, seconds=1), value=30.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(days=7), value=29.0)
    MeasurementFactory(room=room, timestamp=now - timedelta(days=1), value=20.0)
    body = reader_client.get(URL + "/").json()
    assert (body["from"], body["to"]) == ("2025-05-25T12:00:00Z", "2025-06-01T12:00:00Z")
    assert body["excursions"] == [
        {
            "kind": "high",
            "start": "2025-05-25T12:00:00Z",
            "end": "2025-05-31T12:00:00Z",
            "peak": 29.0,
            "readings": 1,
            "started_before": True,  # 30 °C, just before the window, was high too
        }
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2025-04-01"}, "to"),
        ({"from": "2025-04-02T00:00:00Z", "to": "2025-04-01T00:00:00Z"}, "from"),
        ({"to": "0001-01-01T00:00:00Z"}, "to"),
        ({"unit": "kelvin"}, "unit"),
    ],
)
def test_a_bad_excursions_query_is_a_400_naming_the_parameter(
    reader_client: APIClient, lab: Room, query: dict[str, str], field: str
) -> None:
    response = reader_client.get(URL, query)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_excursions_of_an_unknown_room_are_a_404_and_sensors_may_not_read_them(
    reader_client: APIClient, sensor_client: APIClient, lab: Room
) -> None:
    assert reader_client.get("/api/measurements/nowhere/excursions").status_code == 404
    assert reader_client.get("/api/measurements/bad%00id/excursions").status_code == 404
    assert sensor_client.get(URL).status_code == 403
    assert reader_client.post(URL, {}).status_code == 405


@pytest.mark.parametrize(
    "first",
    [
        datetime(2025, 4, 1, 10, 0, 0, 123457, tzinfo=UTC),
        # Before the epoch: the instants travel as microseconds since it, negative here.
        datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_start_and_end_keep_every_microsecond(reader_client: APIClient, first: datetime) -> None:
    room = RoomFactory(room_id="lab-1", min_c=18.0, max_c=22.0)
    after = first + timedelta(microseconds=1)
    MeasurementFactory(room=room, timestamp=first, value=30.0)
    MeasurementFactory(room=room, timestamp=after, value=20.0)

    def iso(moment: datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    window = {"from": iso(first - timedelta(seconds=1)), "to": iso(after)}
    assert _get(reader_client, **window)["excursions"] == [
        {
            "kind": "high",
            "start": iso(first),
            "end": iso(after),
            "peak": 30.0,
            "readings": 1,
            "started_before": False,
        }
    ]
