"""Every judge of readings takes the range in force at each reading's timestamp (DESIGN §3):
excursions, status, `room_report` and `judged_instants`. A room's first range also judges the
readings it already had; a later change judges only what comes after it. The readings of one
instant count as one, their mean (§4.5 "Readings at one instant")."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from measurements import clock
from measurements.models import RangeVersion, Room
from measurements.selectors import judged_instants, range_in_force
from measurements.services import room_update
from tests.factories import MeasurementFactory, RoomFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 1, 8, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _iso(minutes: float) -> str:
    return _at(minutes).isoformat().replace("+00:00", "Z")


@pytest.fixture
def set_range(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Changes lab-1's range through the service as if at `minutes` after T0."""

    def change(minutes: float, min_c: float | None, max_c: float | None, reason: str = "") -> None:
        monkeypatch.setattr(clock, "now", lambda: _at(minutes))
        room_update(room="lab-1", min_c=min_c, max_c=max_c, reason=reason)

    return change


def _readings(room_id: str, *readings: tuple[float, float] | tuple[float, float, str]) -> None:
    room = RoomFactory(room_id=room_id)
    for minutes, value, *sensor in readings:
        MeasurementFactory(
            room=room, timestamp=_at(minutes), value=value, sensor=sensor[0] if sensor else ""
        )


def _excursions(client: APIClient, start: float, end: float, room: str = "lab-1") -> dict:  # type: ignore[type-arg]
    response = client.get(
        f"/api/measurements/{room}/excursions", {"from": _iso(start), "to": _iso(end)}
    )
    assert response.status_code == 200, response.content
    return response.json()  # type: ignore[no-any-return]


def _runs(body: dict) -> list[tuple[str, str, str | None, int, bool]]:  # type: ignore[type-arg]
    return [
        (e["kind"], e["start"][11:16], e["end"] and e["end"][11:16], e["readings"],
         e["started_before"])
        for e in body["excursions"]
    ]  # fmt: skip


def test_the_first_range_judges_the_readings_the_room_already_had(
    reader_client: APIClient, set_range: Callable[..., None]
) -> None:
    _readings("lab-1", (0, 20.0), (10, 25.0), (20, 20.0))
    set_range(60, 18.0, 22.0)  # an hour after the readings
    assert _runs(_excursions(reader_client, 0, 60)) == [("high", "08:10", "08:20", 1, False)]


def test_a_later_change_judges_only_what_comes_after_it_so_past_excursions_stay(
    reader_client: APIClient, set_range: Callable[..., None]
) -> None:
    _readings("lab-1", (0, 20.0), (10, 25.0), (20, 20.0), (40, 25.0), (50, 20.0))
    set_range(-60, 18.0, 22.0)
    set_range(30, 18.0, 26.0, reason="SOP-12 rev. 4 allows 26 °C")  # between the two 25s
    body = _excursions(reader_client, 0, 60)
    # 08:10 was judged by 18–22 (in force then); 08:40 by 18–26: inside.
    assert _runs(body) == [("high", "08:10", "08:20", 1, False)]
    # The answer's range is the one in force at `to`; before the change, the first one.
    assert (body["min"], body["max"]) == (18.0, 26.0)
    earlier = _excursions(reader_client, 0, 20)
    assert (earlier["min"], earlier["max"]) == (18.0, 22.0)


def test_a_narrower_range_makes_excursions_only_from_its_change_on(
    reader_client: APIClient, set_range: Callable[..., None]
) -> None:
    _readings("lab-1", *((minute, 21.5) for minute in range(0, 60, 10)))
    set_range(-60, 18.0, 22.0)
    set_range(25, 18.0, 21.0, reason="tighter for the balance's new class")
    # 21.5 is inside 18–22 until 08:25, then high; the run starts at the first reading after.
    assert _runs(_excursions(reader_client, 0, 60)) == [("high", "08:30", None, 3, False)]


def test_a_cleared_range_judges_nothing_while_it_is_in_force(
    reader_client: APIClient, set_range: Callable[..., None]
) -> None:
    _readings("lab-1", (0, 25.0), (10, 25.0), (20, 25.0), (30, 25.0))
    set_range(-60, 18.0, 22.0)
    set_range(5, None, None, reason="sensor recalibration")
    set_range(25, 18.0, 22.0, reason="back")
    body = _excursions(reader_client, 0, 30)
    # 08:00 high (18–22); 08:10 and 08:20 inside (no range in force); 08:30 high again.
    assert _runs(body) == [("high", "08:00", "08:10", 1, False), ("high", "08:30", None, 1, False)]
    assert _excursions(reader_client, 10, 20)["max"] is None  # none in force at 08:20


def test_a_run_that_began_before_the_window_says_so_by_the_range_of_its_own_time(
    reader_client: APIClient, set_range: Callable[..., None]
) -> None:
    _readings("lab-1", (0, 23.0), (10, 23.5), (20, 24.0), (30, 20.0))
    set_range(-60, 18.0, 22.0)
    began = _excursions(reader_client, 5, 30)
    assert _runs(began) == [("high", "08:10", "08:30", 2, True)]
    # Widened at 08:05: the reading before the window (08:00, judged by 18–22) was high, the
    # window's first (08:10, 18–24) is inside: nothing began before, nothing is outside.
    set_range(5, 18.0, 24.0, reason="summer limits")
    assert _runs(_excursions(reader_client, 5, 30)) == []
    # The window starting on a reading: the one before it is the one just earlier.
    assert _runs(_excursions(reader_client, 0, 30)) == [("high", "08:00", "08:10", 1, False)]


def test_a_reading_before_the_window_on_the_other_side_is_not_a_run_begun_before(
    reader_client: APIClient, set_range: Callable[..., None]
) -> None:
    _readings("lab-1", (0, 15.0), (10, 25.0), (20, 20.0))
    set_range(-60, 18.0, 22.0)
    assert _runs(_excursions(reader_client, 5, 30)) == [("high", "08:10", "08:20", 1, False)]


def test_the_status_judges_the_newest_instant_by_the_range_in_force_at_it(
    reader_client: APIClient, set_range: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    _readings("lab-1", (0, 23.0))
    set_range(-60, 18.0, 22.0)
    set_range(5, 18.0, 24.0, reason="wider")  # after the newest reading
    monkeypatch.setattr(clock, "now", lambda: _at(10))
    assert reader_client.get("/api/rooms/lab-1").json()["status"] == "high"
    MeasurementFactory(room_id="lab-1", timestamp=_at(8), value=23.0)
    assert reader_client.get("/api/rooms/lab-1").json()["status"] == "ok"


def test_two_rooms_with_the_same_readings_and_other_sensor_names_are_judged_alike(
    reader_client: APIClient, now: datetime
) -> None:
    # At each instant two sensors: their mean is what counts, whatever name sorts last.
    for room_id, (first, second) in {"a-room": ("a", "b"), "b-room": ("z", "c")}.items():
        room = RoomFactory(room_id=room_id, min_c=18.0, max_c=22.0)
        for minutes, high, low in [(-30, 25.0, 20.0), (-20, 23.0, 16.0), (-10, 25.0, 21.0)]:
            at = now + timedelta(minutes=minutes)
            MeasurementFactory(room=room, timestamp=at, sensor=first, value=high)
            MeasurementFactory(room=room, timestamp=at, sensor=second, value=low)
    window = {"from": (now - timedelta(hours=1)).isoformat(), "to": now.isoformat()}
    answers = {
        room_id: reader_client.get(f"/api/measurements/{room_id}/excursions", window).json()
        for room_id in ("a-room", "b-room")
    }
    assert answers["a-room"]["excursions"] == answers["b-room"]["excursions"]
    # Means 22.5 (high), 19.5 (inside), 23.0 (high): peaks and counts are the stored readings'.
    assert [(e["kind"], e["peak"], e["readings"]) for e in answers["a-room"]["excursions"]] == [
        ("high", 25.0, 2),
        ("high", 25.0, 2),
    ]
    rooms = reader_client.get("/api/rooms").json()["results"]
    assert {r["room_id"]: r["status"] for r in rooms} == {"a-room": "high", "b-room": "high"}
    assert {r["last_reading"]["value"] for r in rooms} == {23.0}  # the newest instant's mean


def test_the_status_of_an_instant_inside_on_average_is_ok_whichever_sensor_sorts_last(
    reader_client: APIClient, now: datetime
) -> None:
    for room_id, names in {"x": ("hot", "cold"), "y": ("cold", "hot")}.items():
        room = RoomFactory(room_id=room_id, min_c=18.0, max_c=22.0)
        MeasurementFactory(room=room, timestamp=now, sensor=names[0], value=24.0)
        MeasurementFactory(room=room, timestamp=now, sensor=names[1], value=17.0)
    assert {r["status"] for r in reader_client.get("/api/rooms").json()["results"]} == {"ok"}


def test_room_report_keeps_last_months_excursions_when_the_range_is_widened_today(
    set_range: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    _readings("lab-1", (0, 20.0), (10, 25.0), (20, 20.0), (40, 25.0), (50, 20.0))
    set_range(-60, 18.0, 22.0)
    set_range(30, 18.0, 26.0, reason="widened")
    monkeypatch.setattr(clock, "now", lambda: _at(60))
    out = StringIO()
    call_command("room_report", "--since", "PT1H", stdout=out)
    row = out.getvalue().splitlines()[3].split()
    # The range in force now, then: one excursion (08:10–08:20), none begun before, 10 min.
    assert row[:2] == ["lab-1", "18–26"]
    assert row[8:] == ["1", "0", "10", "min", "00", "s"]


def test_judged_instants_give_each_instant_its_mean_and_the_range_in_force(
    set_range: Callable[..., None],
) -> None:
    _readings("lab-1", (0, 20.0, "a"), (0, 24.0, "b"), (10, 25.0), (20, 23.0), (30, 17.0))
    set_range(-60, 18.0, 22.0)
    set_range(15, 18.0, 24.0, reason="wider")
    set_range(25, None, None, reason="cleared")
    judged = judged_instants("lab-1")
    assert [(j.at, j.value, j.count, j.min_c, j.max_c, j.side) for j in judged] == [
        (_at(0), 22.0, 2, 18.0, 22.0, None),
        (_at(10), 25.0, 1, 18.0, 22.0, "high"),
        (_at(20), 23.0, 1, 18.0, 24.0, None),
        (_at(30), 17.0, 1, None, None, None),
    ]
    after = judged_instants("lab-1", after=_at(0), until=_at(20), limit=1)
    assert [j.at for j in after] == [_at(10)]
    assert [j.at for j in judged_instants("lab-1", after=_at(10))] == [_at(20), _at(30)]
    versions = list(RangeVersion.objects.of_room("lab-1"))
    for j in judged:
        version = range_in_force(versions, j.at)
        assert version is not None
        assert (j.min_c, j.max_c) == (version.min_c, version.max_c)


def test_range_in_force_is_the_newest_changed_by_then_else_the_first() -> None:
    room = RoomFactory(room_id="lab-1")
    at = [T0 + timedelta(hours=h) for h in range(4)]
    versions = [
        RangeVersion(room=room, version=1, min_c=1.0, max_c=2.0, changed_at=at[1]),
        RangeVersion(room=room, version=2, min_c=3.0, max_c=4.0, changed_at=at[2]),
        # A clock that stepped back: the higher number is the newer version.
        RangeVersion(room=room, version=3, min_c=5.0, max_c=6.0, changed_at=at[2]),
    ]
    assert range_in_force([], at[0]) is None
    assert range_in_force(versions, at[0]) is versions[0]
    assert range_in_force(versions, at[1]) is versions[0]
    assert range_in_force(versions, at[2]) is versions[2]
    assert range_in_force(versions, at[3]) is versions[2]


def test_the_rooms_query_takes_the_range_the_python_rule_takes_at_every_boundary() -> None:
    # `with_range_at` is the excursions route's `min`/`max`: the same rule, in SQL.
    room = RoomFactory(room_id="lab-1")
    at = [T0 + timedelta(hours=h) for h in range(5)]
    tick = timedelta(microseconds=1)
    history = [
        (1.0, 2.0, at[1]),
        (3.0, 4.0, at[2]),
        (5.0, 6.0, at[4]),
        # Cleared by a clock that had stepped back: the higher number is the newer version,
        # so from at[3] on this one is in force and version 3 never is.
        (None, None, at[3]),
    ]
    for version, (min_c, max_c, changed_at) in enumerate(history, start=1):
        RangeVersion.objects.create(
            room=room,
            version=version,
            min_c=min_c,
            max_c=max_c,
            changed_at=changed_at,
            reason="" if version == 1 else "audit",
        )
    versions = list(RangeVersion.objects.filter(room=room).order_by("version"))
    instants = [t + d for t in at for d in (-tick, timedelta(0), tick)]
    seen = set()
    for instant in instants:
        expected = range_in_force(versions, instant)
        assert expected is not None
        found = Room.objects.with_range_at(instant).get(pk="lab-1")
        assert (found.range_min_c, found.range_max_c) == (expected.min_c, expected.max_c), instant
        seen.add((found.range_min_c, found.range_max_c))
    # Not one answer for every instant: the first range before it was set, the second, and
    # the clearing.
    assert seen == {(1.0, 2.0), (3.0, 4.0), (None, None)}
    RoomFactory(room_id="lab-2")
    assert Room.objects.with_range_at(at[4]).get(pk="lab-2").range_min_c is None
