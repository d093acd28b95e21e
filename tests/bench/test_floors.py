"""The bench's framework floors (bench/floors.py) stay what they claim to be: for the request
the bench sends, each floor runs the same SQL statements as its route (text, parameters, and
whether inside a transaction) and answers the same JSON. Not timed: figures are bench/'s job.
"""

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone
from rest_framework.test import APIClient

from bench import floors, floors_sql
from measurements.models import Measurement, RangeVersion, Room
from monitoring.models import Alarm, DeliveryState, Event, Notification, RoomJudgement
from monitoring.services import alarm_acknowledge, room_judge, target_create
from tests.factories import (
    CalibrationFactory,
    CalibrationTypeFactory,
    InstrumentFactory,
    TagAssignmentFactory,
    TagFactory,
    UserFactory,
)

pytestmark = pytest.mark.postgresql

# The Django floor and the SQL floor: each must run its route's statements.
FLOORS = [floors.PREFIX, floors_sql.PREFIX]

NOW = datetime(2025, 6, 1, 12, 0, 0, 123456, tzinfo=UTC)
BENCH_PERMISSIONS = [
    "calibrations.add_calibration",
    "tagging.add_tagassignment",
    "tagging.change_tagassignment",
    "measurements.add_measurement",
]
Statement = tuple[str, tuple[Any, ...], int]


@pytest.fixture
def bench_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "bench.urls"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Django's clock stopped at NOW, for the route and its floor alike."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def bench_client(db: None, client_for: Callable[..., APIClient]) -> APIClient:
    """Authenticated as the bench's user: exactly the write permissions."""
    return client_for(UserFactory(username="bench", permissions=BENCH_PERMISSIONS))


@pytest.fixture
def data(db: None) -> dict[str, Any]:
    """60 of user01's gain calibrations (a full page and a next one), with tags over time."""
    gain = CalibrationTypeFactory(name="gain")
    tags = [TagFactory(name=name) for name in ("tag-000", "Tag-001", "tag-002")]
    calibrations = [
        CalibrationFactory(
            calibration_type=gain,
            username="user01",
            value=0.1 * i,
            # Two share a timestamp at the page's end: the next cursor needs an offset.
            timestamp=datetime(2024, 1, 1, tzinfo=UTC) - timedelta(hours=min(i, 49)),
        )
        for i in range(60)
    ]
    for i, calibration in enumerate(calibrations):
        for tag in tags[: 1 + i % 3]:
            TagAssignmentFactory(
                calibration=calibration,
                tag=tag,
                added_at=datetime(2023, 1, 1, tzinfo=UTC),
                removed_at=datetime(2023, 6, 1, tzinfo=UTC) if i % 2 and tag != tags[0] else None,
            )
    # Readings every 15 minutes for 8 days (20–26 °C) under a range changed twice in the last
    # 7 days (versions 2 and 3 inside the excursions' default window, version 1 before it).
    room = Room.objects.create(room_id="room-0001", min_c=21.0, max_c=23.5)
    for version, (low, high, days) in enumerate([(19, 25, 10), (20.5, 24.5, 5), (21, 23.5, 2)]):
        RangeVersion.objects.create(
            room=room,
            version=version + 1,
            min_c=low,
            max_c=high,
            changed_at=NOW - timedelta(days=days),
            changed_by="quality" if version else None,
            reason="tightened" if version else "",
        )
    Measurement.objects.bulk_create(
        Measurement(room=room, timestamp=NOW - timedelta(minutes=15 * i), value=20 + (i + 3) % 7)
        for i in range(24 * 4 * 8)
    )
    # A second sensor now and then: an instant of two readings counts as one, their mean.
    Measurement.objects.bulk_create(
        Measurement(room=room, timestamp=NOW - timedelta(hours=5 * i), sensor="s2", value=27.5)
        for i in range(1, 24 * 8 // 5)
    )
    # Judged as the bench's rooms are after their first post (a post judges its own reading):
    # the last day's runs outside the range raised alarms (the newest reading is inside).
    target_create(
        name="Lab webhook",
        url="json://127.0.0.1:9/hook?token=s3cret",
        events=[Event.RAISED, Event.CLEARED],
    )
    target_create(
        name="Quality chat", url="json://127.0.0.1:9/chat", rooms=["room-0001"], events=["raised"]
    )
    RoomJudgement.objects.create(room=room, judged_until=NOW - timedelta(days=1))
    room_judge(room_id=room.room_id)
    alarms(room)
    # No reading (status no_data), and one whose last reading is an hour old (stale), no range.
    Room.objects.create(room_id="room-0002")
    stale = Room.objects.create(room_id="room-0003", name="Attic")
    Measurement.objects.create(room=stale, timestamp=NOW - timedelta(hours=1), value=19.25)
    instruments()
    return {"calibration": calibrations[3], "tag": "tag-000", "room": room.room_id}


def alarms(room: Room) -> None:
    """The alarms judging raised, each raised when its run began (as on a room judged as its
    readings arrive), but the newest three at one instant; one acknowledged, and a
    notification that gave up with the target's token in its error (shown masked)."""
    Alarm.objects.filter(room=room).update(raised_at=F("opened_at"))
    newest = Alarm.objects.filter(room=room).order_by("-opened_at")
    Alarm.objects.filter(pk__in=[alarm.pk for alarm in newest[:3]]).update(raised_at=NOW)
    acknowledged = newest[4]
    alarm_acknowledge(alarm=acknowledged, username="quality", comment="Door shut at 10:40.")
    Notification.objects.filter(alarm=newest[5]).update(
        state=DeliveryState.FAILED, attempts=8, last_error="refused: /hook?token=s3cret"
    )


def instruments() -> None:
    """An instrument in each status, three without a due date (they sort last, by id)."""
    thermo = CalibrationTypeFactory(name="thermo", lower_limit=-0.5, upper_limit=0.5)
    days = [
        # id, interval, [(days ago, deviation)]: ok, due_soon, overdue, out of tolerance, free
        ("TH-OK", 365, [(100, 0.1)]),
        ("TH-SOON", 365, [(350, -0.2)]),
        ("TH-LATE", 30, [(60, 0.0)]),
        ("TH-OOT", 365, [(200, 0.3), (10, 0.9)]),
        ("TH-FREE", None, [(5, 0.2)]),
    ]
    for instrument_id, interval, calibrations in days:
        InstrumentFactory(instrument_id=instrument_id, calibration_interval_days=interval)
        for ago, deviation in calibrations:
            CalibrationFactory(
                calibration_type=thermo,
                value=deviation,
                timestamp=NOW - timedelta(days=ago),
                instrument_id=instrument_id,
                username="metrologist",
            )
    InstrumentFactory(instrument_id="TH-NEW", serial_number="SN 1")
    InstrumentFactory(instrument_id="TH-OLD", retired_at=NOW - timedelta(days=1))


def statements() -> Any:
    """Record each statement's SQL, parameters, and whether it ran inside a transaction."""
    log: list[Statement] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # How deep in transactions (a test runs inside one already): BEGIN vs. none differs.
        # Named parameters (the selectors' SQL) by name: a dict's tuple would be its keys.
        values = sorted(params.items()) if isinstance(params, dict) else params or ()
        log.append((sql, tuple(values), len(connection.atomic_blocks)))
        return execute(sql, params, many, context)

    class Recording:
        def __enter__(self) -> list[Statement]:
            self.wrapper = connection.execute_wrapper(record)
            self.wrapper.__enter__()
            return log

        def __exit__(self, *exc: object) -> None:
            self.wrapper.__exit__(*exc)

    return Recording()


def normalized(log: list[Statement], masked: Callable[[Any], Any]) -> list[Statement]:
    # Savepoint names carry a thread id and a counter; that is all that may differ.
    savepoint = re.compile(r'"s\d+_x\d+"')
    return [
        (savepoint.sub('"s_x"', " ".join(sql.split())), tuple(map(masked, params)), atomic)
        for sql, params, atomic in log
    ]


def assert_same_statements(
    floor: list[Statement], route: list[Statement], masked: Callable[[Any], Any]
) -> None:
    """Statement by statement, so a failure shows the first that differs."""
    for index, (ours, theirs) in enumerate(
        zip(normalized(floor, masked), normalized(route, masked), strict=False)
    ):
        assert ours == theirs, f"statement {index} differs:\n{ours}\n{theirs}"
    assert len(floor) == len(route), [sql for sql, _, _ in route]


def exchange(client: APIClient, method: str, path: str, body: str | None) -> tuple[Any, Any]:
    """Send one request; its status, JSON and statements."""
    # The bench measures a warm server: the token's credentials are cached before the request
    # (accounts/credentials.py), so neither a route nor its floor reads the token or permissions.
    assert client.get("/api/").status_code == 200
    with statements() as log:
        if method == "GET":
            response = client.get(path)
        else:
            response = client.generic(method, path, body or "", content_type="application/json")
    return response, list(log)


def unmasked(value: Any) -> Any:
    return value


def new_rows(value: Any) -> Any:
    """Ids and instants a create makes up: equal in kind, not in value."""
    if isinstance(value, UUID):
        return "<new uuid>"
    if isinstance(value, datetime):  # the model's default `created_at` reads the real clock
        return "<instant>"
    return value


def compare(
    client: APIClient,
    prefix: str,
    method: str,
    path: str,
    body: str | None = None,
    masked: Callable[[Any], Any] = unmasked,
    varying: tuple[str, ...] = (),
) -> tuple[Any, Any]:
    route, route_sql = exchange(client, method, path, body)
    floor, floor_sql = exchange(client, method, prefix + path, body)
    assert route.status_code in (200, 201), route.content
    assert floor.status_code == route.status_code, floor.content
    assert_same_statements(floor_sql, route_sql, masked)
    route_json, floor_json = json.loads(route.content), json.loads(floor.content)
    for key in varying:
        assert floor_json.pop(key)
        assert route_json.pop(key)
    assert floor_json == route_json
    return route, floor


@pytest.mark.usefixtures("bench_urls", "frozen", "data")
@pytest.mark.parametrize("prefix", FLOORS)
def test_create_runs_the_same_sql_and_answers_the_same_json(
    bench_client: APIClient, prefix: str
) -> None:
    body = '{"calibration_type": "gain", "value": 1.25, "username": "bench-user07"}'
    route, floor = compare(
        bench_client,
        prefix,
        "POST",
        "/api/calibrations",
        body,
        masked=new_rows,
        varying=("calibration_id", "created_at"),
    )
    assert route["Location"].rsplit("/", 1)[0] == floor["Location"].rsplit("/", 1)[0]


@pytest.mark.usefixtures("bench_urls", "frozen")
@pytest.mark.parametrize(
    "path",
    [
        "/api/calibrations?username=user01&calibration_type=gain&page_size=50",
        "/api/calibrations?username=user01&calibration_type=gain&page_size=10",
        "/api/calibrations/{calibration}",
        "/api/calibrations/{calibration}/tags?timestamp=2023-03-01T00:00:00Z",
        "/api/calibrations/{calibration}/tags?timestamp=2024-01-01T00:00:00Z",
        "/api/tags/{tag}/calibrations?timestamp=2024-01-01T00:00:00Z",
        "/api/tags/{tag}/calibrations?timestamp=2023-03-01T00:00:00Z",
        "/api/measurements/{room}/average/PT1H",
        "/api/measurements/{room}/average/P1D",
        "/api/measurements/{room}/average/P7D",
        "/api/measurements/{room}/series?bucket=1h",
        "/api/measurements/{room}/series?bucket=1h&from=2025-05-28T00:00:00Z&to=2025-06-01T10:00:00Z",
        "/api/measurements/{room}/average/P1D?method=time_weighted",
        "/api/measurements/{room}/average/PT1H?method=time_weighted",
        "/api/measurements/room-0002/average/P1D?method=time_weighted",
        "/api/measurements/{room}/series?bucket=6h&method=time_weighted",
        "/api/measurements/{room}/average/P1D?method=mkt",
        "/api/measurements/{room}/average/P7D?method=mkt&activation_energy=60",
        "/api/measurements/{room}/series?bucket=1d&method=mkt",
        "/api/measurements/{room}/excursions",
        "/api/measurements/{room}/excursions?from=2025-05-28T00:00:00Z&to=2025-06-01T10:00:00Z",
        "/api/measurements/room-0003/excursions",
        "/api/rooms?page_size=50",
        "/api/rooms?page_size=2",
        "/api/rooms/{room}/range-history",
        "/api/rooms/room-0003/range-history",
        "/api/instruments",
        "/api/instruments?page_size=2",
        "/api/instruments?page_size=5",
        "/api/alarms",
        "/api/alarms?page_size=3",
        "/api/alarms?page_size=5",
    ],
)
@pytest.mark.parametrize("prefix", FLOORS)
def test_reads_run_the_same_sql_and_answer_the_same_json(
    bench_client: APIClient, data: dict[str, Any], path: str, prefix: str
) -> None:
    compare(
        bench_client, prefix, "GET", path.format(**{**data, "calibration": data["calibration"].pk})
    )


@pytest.mark.usefixtures("bench_urls", "frozen")
@pytest.mark.parametrize("prefix", FLOORS)
def test_post_one_reading_runs_the_same_sql_and_answers_the_same_json(
    bench_client: APIClient, data: dict[str, Any], prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"/api/measurements/{data['room']}"
    # Each posts its own reading, stamped on arrival, each after the last judged: both are
    # judged in full (the second of the same would find it stored, or judged).
    arrivals = [NOW + timedelta(seconds=1), NOW + timedelta(seconds=2)]
    body = '{"value": 21.5, "unit": "C", "sensor": "bench"}'
    monkeypatch.setattr(timezone, "now", lambda: arrivals[0])
    route, route_sql = exchange(bench_client, "POST", path, body)
    monkeypatch.setattr(timezone, "now", lambda: arrivals[1])
    floor, floor_sql = exchange(bench_client, "POST", prefix + path, body)
    assert route.status_code == floor.status_code == 201
    masked = lambda value: "<arrival>" if value in arrivals else value  # noqa: E731
    assert_same_statements(floor_sql, route_sql, masked)
    assert any("monitoring_roomjudgement" in sql for sql, _, _ in route_sql)
    assert {**json.loads(floor.content), "timestamp": "<arrival>"} == {
        **json.loads(route.content),
        "timestamp": "<arrival>",
    }


@pytest.mark.usefixtures("bench_urls", "frozen", "data")
@pytest.mark.parametrize("prefix", FLOORS)
def test_post_readings_in_an_array_runs_the_same_sql_and_answers_the_same_json(
    bench_client: APIClient, prefix: str
) -> None:
    readings = [
        {"timestamp": f"2025-05-01T00:{minute:02d}:00Z", "value": 18 + minute / 10}
        for minute in range(60)
    ]
    body = json.dumps([*readings, readings[0]])  # one repeated: a duplicate
    route, route_sql = exchange(bench_client, "POST", "/api/measurements/bench-bulk-1", body)
    floor, floor_sql = exchange(
        bench_client, "POST", prefix + "/api/measurements/bench-bulk-2", body
    )
    assert route.status_code == floor.status_code == 201
    rooms = {"bench-bulk-1": "<room>", "bench-bulk-2": "<room>"}

    def masked(value: Any) -> Any:
        if isinstance(value, datetime):  # the room's `created_at` default reads the real clock
            return "<instant>"
        return rooms.get(value, value) if isinstance(value, str) else value

    assert_same_statements(floor_sql, route_sql, masked)
    route_json, floor_json = json.loads(route.content), json.loads(floor.content)
    assert route_json == {"room_id": "bench-bulk-1", "created": 60, "duplicates": 1}
    assert floor_json == {**route_json, "room_id": "bench-bulk-2"}
    stored = Measurement.objects.filter(room__in=["bench-bulk-1", "bench-bulk-2"])
    assert stored.count() == 120
