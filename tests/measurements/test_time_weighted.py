"""`method=time_weighted` on the average and series routes, against hand-computed figures.

The clock is frozen at 12:00; `PT1H` is the window [11:00, 12:00]. Each reading's value holds
until the next instant's, the last until the window's end; the last reading before the
window covers its start.
"""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

H11 = datetime(2025, 6, 1, 11, tzinfo=UTC)


def _readings(*readings: tuple[int, float] | tuple[int, float, str]) -> None:
    """Readings of lab-1 at `minutes` after 11:00 (negative: before the window)."""
    room = RoomFactory(room_id="lab-1")
    for reading in readings:
        minutes, value, *sensor = reading
        MeasurementFactory(
            room=room,
            timestamp=H11 + timedelta(minutes=minutes),
            value=value,
            sensor=sensor[0] if sensor else "",
        )


def _average(client: APIClient, **query: str) -> dict[str, object]:
    response = client.get(
        "/api/measurements/lab-1/average/PT1H", {"method": "time_weighted", **query}
    )
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    assert body["method"] == "time_weighted"
    return body


def _figures(body: dict[str, object]) -> tuple[object, ...]:
    return (body["average"], body["min"], body["max"], body["count"])


def test_without_a_reading_before_the_window_the_time_before_the_first_is_left_out(
    reader_client: APIClient, now: datetime
) -> None:
    # 20 holds 11:15–11:45 (30 min), 30 holds 11:45–12:00 (15 min): (600 + 450) / 45.
    _readings((15, 20.0), (45, 30.0))
    body = _average(reader_client)
    assert _figures(body) == (pytest.approx(23.333333333), 20.0, 30.0, 2)
    mean = reader_client.get("/api/measurements/lab-1/average/PT1H").json()
    assert (mean["average"], mean["method"]) == (25.0, "mean")


def test_the_last_reading_before_the_window_covers_its_start(
    reader_client: APIClient, now: datetime
) -> None:
    # 10 (from 10:30) holds 11:00–11:15, 20 holds 30 min, 30 holds 15 min: 1200 / 60. The
    # reading before the window is not counted in min, max or count.
    _readings((-90, 5.0), (-30, 10.0), (15, 20.0), (45, 30.0))
    assert _figures(_average(reader_client)) == (20.0, 20.0, 30.0, 2)


def test_readings_of_several_sensors_at_one_instant_are_one_step_their_mean(
    reader_client: APIClient, now: datetime
) -> None:
    # 11:00: a=20, b=22 → 21 for 30 min; 11:30: a=27 for 30 min → 24. The reading before the
    # window (99) covers nothing: a reading is exactly on the start.
    _readings((-60, 99.0), (0, 20.0, "a"), (0, 22.0, "b"), (30, 27.0, "a"))
    assert _figures(_average(reader_client)) == (24.0, 20.0, 27.0, 3)
    assert reader_client.get("/api/measurements/lab-1/average/PT1H").json()["average"] == 23.0


def test_a_single_reading_holds_to_the_end_of_the_window(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((30, 20.0))
    assert _figures(_average(reader_client)) == (20.0, 20.0, 20.0, 1)


def test_a_single_reading_after_one_before_the_window_weighs_by_time(
    reader_client: APIClient, now: datetime
) -> None:
    # 10 covers 11:00–11:30, 20 covers 11:30–12:00.
    _readings((-5, 10.0), (30, 20.0))
    assert _figures(_average(reader_client)) == (15.0, 20.0, 20.0, 1)


def test_readings_exactly_on_both_bounds_count_and_the_one_at_the_end_holds_for_no_time(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((-30, 99.0), (0, 10.0), (60, 40.0), (61, 77.0))
    assert _figures(_average(reader_client)) == (10.0, 10.0, 40.0, 2)


def test_a_window_whose_only_reading_is_at_its_end_averages_that_reading(
    reader_client: APIClient, now: datetime
) -> None:
    # No time is covered (nothing before, the reading at 12:00 holds until 12:00): the
    # average falls back to the readings themselves.
    _readings((60, 40.0, "a"), (60, 42.0, "b"))
    assert _figures(_average(reader_client)) == (41.0, 40.0, 42.0, 2)


def test_no_reading_in_the_window_but_one_before_it_covers_the_whole_window(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((-120, 18.0, "a"), (-120, 19.0, "b"))
    assert _figures(_average(reader_client)) == (18.5, None, None, 0)


def test_no_reading_in_the_window_and_none_before_it_is_count_zero_and_nulls(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((120, 18.0))  # after the window only
    assert _figures(_average(reader_client)) == (None, None, None, 0)


def test_the_time_weighted_average_is_converted_to_the_asked_unit(
    reader_client: APIClient, now: datetime
) -> None:
    _readings((-30, 10.0), (15, 20.0), (45, 30.0))
    body = _average(reader_client, unit="F")
    assert _figures(body) == (pytest.approx(68.0), pytest.approx(68.0), pytest.approx(86.0), 2)


@pytest.mark.parametrize("method", ["median", "MEAN", "time-weighted", "1"])
def test_an_unknown_method_is_a_400(reader_client: APIClient, now: datetime, method: str) -> None:
    _readings((15, 20.0))
    for path in ("/api/measurements/lab-1/average/PT1H", "/api/measurements/lab-1/series"):
        response = reader_client.get(path, {"method": method})
        assert response.status_code == 400
        assert "method" in response.json()


# --- Series ---------------------------------------------------------------------------------


def _series(client: APIClient, **query: str) -> list[tuple[str, float, float, float, int]]:
    response = client.get(
        "/api/measurements/lab-1/series",
        {"bucket": "1h", "method": "time_weighted", **query},
    )
    assert response.status_code == 200, response.content
    return [
        (b["start"][11:16], pytest.approx(b["average"]), b["min"], b["max"], b["count"])
        for b in response.json()
    ]


def test_each_series_bucket_is_a_window_of_its_own(reader_client: APIClient) -> None:
    # 09:30 → 10; 10:15 → 20; 10:45 → 30; nothing in 11:00–12:00; 12:00 → 50.
    _readings((-90, 10.0), (-45, 20.0), (-15, 30.0), (60, 50.0))
    assert _series(
        reader_client, **{"from": "2025-06-01T09:00:00Z", "to": "2025-06-01T12:00:00Z"}
    ) == [
        # [09:00, 10:00]: nothing before 09:30, then 10 for 30 min.
        ("09:00", 10.0, 10.0, 10.0, 1),
        # [10:00, 11:00]: 10 (from 09:30) 15 min, 20 for 30 min, 30 for 15 min: 1200 / 60.
        ("10:00", 20.0, 20.0, 30.0, 2),
        # 11:00 has no reading inside it: left out, as for the mean.
        # [12:00, 12:00] (clipped to `to`): the reading at its end, no time covered.
        ("12:00", 50.0, 50.0, 50.0, 1),
    ]


def test_the_first_bucket_starts_at_from_and_is_covered_by_the_reading_before_it(
    reader_client: APIClient,
) -> None:
    _readings((-90, 10.0), (-45, 20.0), (-15, 30.0))
    # [10:05, 11:00]: 10 for 10 min, 20 for 30 min, 30 for 15 min: (100 + 600 + 450) / 55.
    assert _series(
        reader_client, **{"from": "2025-06-01T10:05:00Z", "to": "2025-06-01T11:30:00Z"}
    ) == [
        ("10:00", 1150 / 55, 20.0, 30.0, 2),
    ]


def test_series_by_mean_is_unchanged_by_the_method_parameter(reader_client: APIClient) -> None:
    _readings((-90, 10.0), (-45, 20.0), (-15, 30.0))
    window = {"from": "2025-06-01T09:00:00Z", "to": "2025-06-01T11:00:00Z", "bucket": "1h"}
    plain = reader_client.get("/api/measurements/lab-1/series", window).json()
    mean = reader_client.get("/api/measurements/lab-1/series", {**window, "method": "mean"}).json()
    assert plain == mean
    assert [b["average"] for b in mean] == [10.0, 25.0]
