"""Placements (DESIGN §3, §4.7): which instrument reported as which sensor of which room, when.
One open placement per instrument and per (room, sensor), periods that never overlap, enforced
by the database; the API answers 409 naming the placement in the way."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from rest_framework.test import APIClient

from calibrations.models import Instrument
from calibrations.services import calibration_create
from monitoring.models import Placement
from monitoring.services import PlacementConflict, placement_create, placement_remove
from tests.conftest import Race
from tests.factories import (
    CalibrationTypeFactory,
    InstrumentFactory,
    MeasurementFactory,
    PlacementFactory,
    RoomFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, 9, 0, tzinfo=UTC)
PLACER = ["monitoring.add_placement", "monitoring.change_placement"]


@pytest.fixture
def placer_client(client_for: Callable[[User], APIClient]) -> APIClient:
    return client_for(UserFactory(username="placer", permissions=PLACER))


@pytest.fixture
def lab() -> Any:
    return RoomFactory(room_id="lab-1")


def place(client: APIClient, instrument_id: str, **body: Any) -> Any:
    return client.post(f"/api/instruments/{instrument_id}/placements", body)


def test_placing_an_instrument_answers_201_and_lists_it(placer_client: APIClient, lab: Any) -> None:
    InstrumentFactory(instrument_id="TH-1")
    response = place(
        placer_client,
        "TH-1",
        room_id="lab-1",
        sensor="north-wall",
        placed_at="2025-04-01T09:00:00Z",
    )
    assert response.status_code == 201, response.content
    placement = Placement.objects.get()
    assert response.json() == {
        "id": placement.pk,
        "instrument_id": "TH-1",
        "room_id": "lab-1",
        "sensor": "north-wall",
        "placed_at": "2025-04-01T09:00:00Z",
        "removed_at": None,
    }
    listed = placer_client.get("/api/instruments/TH-1/placements/").json()
    assert listed["results"] == [response.json()]


def test_placed_at_defaults_to_now_and_the_sensor_to_the_unnamed_one(
    placer_client: APIClient, lab: Any
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    before = datetime.now(UTC)
    body = place(placer_client, "TH-1", room_id="lab-1").json()
    assert body["sensor"] == ""
    assert datetime.fromisoformat(body["placed_at"]) >= before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"room_id": "nowhere"}, "room_id"),
        ({}, "room_id"),
        ({"room_id": 5}, "room_id"),
        ({"room_id": "lab-1", "sensor": "x" * 65}, "sensor"),
        ({"room_id": "lab-1", "sensor": "a\nb"}, "sensor"),
        ({"room_id": "lab-1", "placed_at": "soon"}, "placed_at"),
    ],
)
def test_bad_input_is_a_400_and_places_nothing(
    placer_client: APIClient, lab: Any, body: dict[str, Any], field: str
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    response = place(placer_client, "TH-1", **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Placement.objects.exists()


def test_a_retired_instrument_cannot_be_placed(placer_client: APIClient, lab: Any) -> None:
    InstrumentFactory(instrument_id="OLD", retired_at=T0)
    response = place(placer_client, "OLD", room_id="lab-1", placed_at="2025-04-02T00:00:00Z")
    assert response.status_code == 400
    assert "retired" in response.json()["instrument_id"][0]
    # Before its retirement it may (placements are recorded after the fact too).
    assert (
        place(placer_client, "OLD", room_id="lab-1", placed_at="2025-03-01T00:00:00Z").status_code
        == 201
    )


def test_an_unknown_instrument_is_a_404(placer_client: APIClient, lab: Any) -> None:
    assert place(placer_client, "NOPE", room_id="lab-1").status_code == 404
    assert placer_client.get("/api/instruments/NOPE/placements").status_code == 404


def test_an_open_placement_of_the_instrument_is_a_409_naming_it(
    placer_client: APIClient, lab: Any
) -> None:
    first = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    RoomFactory(room_id="lab-2")
    response = place(placer_client, "TH-1", room_id="lab-2", placed_at="2025-05-01T00:00:00Z")
    assert response.status_code == 409
    body = response.json()
    assert body["placement"]["id"] == first.pk
    assert "This instrument is placed as the unnamed sensor of room 'lab-1'" in body["detail"]
    assert Placement.objects.count() == 1


def test_an_open_placement_of_the_sensor_is_a_409_naming_it(
    placer_client: APIClient, lab: Any
) -> None:
    first = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, sensor="s", placed_at=T0
    )
    InstrumentFactory(instrument_id="TH-2")
    response = place(
        placer_client, "TH-2", room_id="lab-1", sensor="s", placed_at="2025-05-01T00:00:00Z"
    )
    assert response.status_code == 409
    assert response.json()["placement"]["id"] == first.pk
    assert "Instrument 'TH-1'" in response.json()["detail"]
    # Another sensor of the same room is free.
    assert place(placer_client, "TH-2", room_id="lab-1", sensor="t").status_code == 201


def test_a_period_that_overlaps_a_closed_one_is_a_409(placer_client: APIClient, lab: Any) -> None:
    closed = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    placement_remove(placement=closed, removed_at=T0 + timedelta(days=10))
    InstrumentFactory(instrument_id="TH-2")
    # Placed inside the closed period: the two would share days 5 to 10.
    response = place(
        placer_client, "TH-2", room_id="lab-1", placed_at=(T0 + timedelta(days=5)).isoformat()
    )
    assert response.status_code == 409
    assert response.json()["placement"]["id"] == closed.pk
    # From the instant the first ended, the sensor is free (the as-of rule: ended means gone).
    ok = place(
        placer_client, "TH-2", room_id="lab-1", placed_at=(T0 + timedelta(days=10)).isoformat()
    )
    assert ok.status_code == 201, ok.content


def test_an_instrument_is_in_one_place_at_a_time_closed_periods_included(
    placer_client: APIClient, lab: Any
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    closed = PlacementFactory(instrument=instrument, room=lab, placed_at=T0)
    placement_remove(placement=closed, removed_at=T0 + timedelta(days=10))
    RoomFactory(room_id="lab-2")
    response = place(
        placer_client, "TH-1", room_id="lab-2", placed_at=(T0 - timedelta(days=1)).isoformat()
    )
    assert response.status_code == 409  # open from the day before: overlaps the closed one
    assert response.json()["placement"]["id"] == closed.pk


def test_removing_ends_the_placement_and_frees_the_sensor(
    placer_client: APIClient, lab: Any
) -> None:
    placement = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    url = f"/api/instruments/TH-1/placements/{placement.pk}/remove"
    response = placer_client.post(url, {"removed_at": "2025-04-03T00:00:00Z"})
    assert response.status_code == 200, response.content
    assert response.json()["removed_at"] == "2025-04-03T00:00:00Z"
    again = placer_client.post(url + "/", {})
    assert again.status_code == 409
    assert "removed already" in again.json()["detail"]
    InstrumentFactory(instrument_id="TH-2")
    assert (
        place(placer_client, "TH-2", room_id="lab-1", placed_at="2025-04-03T00:00:00Z").status_code
        == 201
    )


def test_removing_defaults_to_now(placer_client: APIClient, lab: Any) -> None:
    placement = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    response = placer_client.post(f"/api/instruments/TH-1/placements/{placement.pk}/remove")
    assert response.status_code == 200
    placement.refresh_from_db()
    assert placement.removed_at is not None
    assert placement.removed_at > T0


def test_removed_at_before_placed_at_is_a_400_and_changes_nothing(
    placer_client: APIClient, lab: Any
) -> None:
    placement = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    response = placer_client.post(
        f"/api/instruments/TH-1/placements/{placement.pk}/remove",
        {"removed_at": "2025-03-31T00:00:00Z"},
    )
    assert response.status_code == 400
    assert "removed_at" in response.json()
    placement.refresh_from_db()
    assert placement.removed_at is None


@pytest.mark.parametrize("placement_id", ["999999", "abc", "1" * 30, "-1"])
def test_removing_a_placement_that_is_not_the_instruments_is_a_404(
    placer_client: APIClient, lab: Any, placement_id: str
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    other = PlacementFactory(instrument=InstrumentFactory(instrument_id="TH-2"), room=lab)
    for candidate in (placement_id, str(other.pk)):
        response = placer_client.post(f"/api/instruments/TH-1/placements/{candidate}/remove")
        assert response.status_code == 404
    other.refresh_from_db()
    assert other.removed_at is None


def test_a_rooms_placements_at_an_instant_carry_their_instruments_status_then(
    reader_client: APIClient, lab: Any
) -> None:
    check = CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)
    instrument = InstrumentFactory(instrument_id="TH-1", calibration_interval_days=30)
    calibration_create(
        calibration_type=check, value=0.1, username="a", timestamp=T0, instrument_id="TH-1"
    )
    placement = PlacementFactory(instrument=instrument, room=lab, placed_at=T0)
    placement_remove(placement=placement, removed_at=T0 + timedelta(days=100))
    later = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-2"),
        room=lab,
        placed_at=T0 + timedelta(days=100),
    )

    def at(moment: datetime) -> list[dict[str, Any]]:
        response = reader_client.get(
            "/api/rooms/lab-1/placements", {"timestamp": moment.isoformat()}
        )
        assert response.status_code == 200, response.content
        return list(response.json()["results"])

    first = at(T0 + timedelta(days=10))
    assert [(p["id"], p["instrument_status"]) for p in first] == [(placement.pk, "due_soon")]
    assert first[0]["instrument_due_at"] == "2025-05-01T09:00:00Z"
    assert [(p["id"], p["instrument_status"]) for p in at(T0 + timedelta(days=40))] == [
        (placement.pk, "overdue")
    ]
    assert [p["id"] for p in at(T0 + timedelta(days=100))] == [
        later.pk
    ]  # the removal instant: gone
    assert at(T0 - timedelta(seconds=1)) == []
    now = reader_client.get("/api/rooms/lab-1/placements/").json()["results"]
    assert [(p["id"], p["instrument_status"]) for p in now] == [(later.pk, "never_calibrated")]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
def test_the_rooms_placements_answer_at_the_edges_of_time(
    reader_client: APIClient, lab: Any, moment: str
) -> None:
    PlacementFactory(instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0)
    assert (
        reader_client.get("/api/rooms/lab-1/placements", {"timestamp": moment}).status_code == 200
    )


def test_a_rooms_placements_refuse_bad_input(reader_client: APIClient, lab: Any) -> None:
    assert reader_client.get("/api/rooms/nowhere/placements").status_code == 404
    response = reader_client.get("/api/rooms/lab-1/placements", {"timestamp": "noon"})
    assert response.status_code == 400
    assert "timestamp" in response.json()


# --- The rules in the database.


def test_the_database_keeps_one_open_placement_per_instrument_and_per_sensor(lab: Any) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    Placement.objects.create(instrument=instrument, room=lab, sensor="a", placed_at=T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(
            instrument=instrument, room=lab, sensor="b", placed_at=T0 + timedelta(days=1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.create(
            instrument=InstrumentFactory(instrument_id="TH-2"), room=lab, sensor="a", placed_at=T0
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Placement.objects.filter(instrument=instrument).update(removed_at=T0 - timedelta(seconds=1))


@pytest.mark.postgresql
def test_postgresql_refuses_overlapping_periods_of_a_sensor_and_of_an_instrument(lab: Any) -> None:
    one = InstrumentFactory(instrument_id="TH-1")
    two = InstrumentFactory(instrument_id="TH-2")
    Placement.objects.create(
        instrument=one, room=lab, sensor="a", placed_at=T0, removed_at=T0 + timedelta(days=10)
    )
    with pytest.raises(IntegrityError, match="sensor_periods_disjoint"), transaction.atomic():
        Placement.objects.create(
            instrument=two,
            room=lab,
            sensor="a",
            placed_at=T0 + timedelta(days=2),
            removed_at=T0 + timedelta(days=3),
        )
    with pytest.raises(IntegrityError, match="instrument_periods_disjoint"), transaction.atomic():
        Placement.objects.create(
            instrument=one,
            room=RoomFactory(room_id="lab-2"),
            placed_at=T0 - timedelta(days=2),
            removed_at=T0 + timedelta(days=1),
        )
    # Touching at an end is not overlapping: [placed_at, removed_at).
    Placement.objects.create(
        instrument=two, room=lab, sensor="a", placed_at=T0 + timedelta(days=10)
    )


def test_the_service_names_the_placement_in_the_way_on_either_database(lab: Any) -> None:
    one = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    placement_remove(placement=one, removed_at=T0 + timedelta(days=10))
    with pytest.raises(PlacementConflict) as caught:
        placement_create(
            instrument=InstrumentFactory(instrument_id="TH-2"),
            room_id="lab-1",
            placed_at=T0 - timedelta(days=1),
        )
    assert caught.value.placement.pk == one.pk
    assert Placement.objects.count() == 1


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_placements_of_one_sensor_at_once_one_wins_the_other_is_told_which(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    RoomFactory(room_id="lab-1")
    for i in range(4):
        InstrumentFactory(instrument_id=f"TH-{i}")
    user = UserFactory(username="placer", permissions=PLACER)

    def attempt(i: int) -> Callable[[], Any]:
        return lambda: place(client_for(user), f"TH-{i}", room_id="lab-1", sensor="s")

    responses = race([attempt(i) for i in range(4)])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    winner = Placement.objects.get()
    assert {r.json()["placement"]["id"] for r in responses if r.status_code == 409} == {winner.pk}


def test_nothing_deletes_a_placed_instrument(lab: Any) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    PlacementFactory(instrument=instrument, room=lab)
    with pytest.raises(ProtectedError):
        Instrument.objects.filter(pk="TH-1").delete()


# --- Readings name their instrument.


def test_each_reading_names_the_instrument_placed_as_its_sensor_then(
    reader_client: APIClient, lab: Any
) -> None:
    first = PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0
    )
    placement_remove(placement=first, removed_at=T0 + timedelta(hours=2))
    PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-2"),
        room=lab,
        placed_at=T0 + timedelta(hours=2),
    )
    PlacementFactory(
        instrument=InstrumentFactory(instrument_id="TH-3"), room=lab, sensor="door", placed_at=T0
    )
    for minutes, sensor in ((-1, ""), (0, ""), (119, ""), (120, ""), (60, "door"), (60, "window")):
        MeasurementFactory(room=lab, timestamp=T0 + timedelta(minutes=minutes), sensor=sensor)
    body = reader_client.get("/api/measurements/lab-1", {"page_size": 10}).json()
    found = {(r["timestamp"], r["sensor"]): r["instrument"] for r in body["results"]}
    assert found == {
        ("2025-04-01T08:59:00Z", ""): None,  # before any placement
        ("2025-04-01T09:00:00Z", ""): "TH-1",  # at its placed_at: its own
        ("2025-04-01T10:59:00Z", ""): "TH-1",
        ("2025-04-01T11:00:00Z", ""): "TH-2",  # at TH-1's removed_at: the next one's
        ("2025-04-01T10:00:00Z", "door"): "TH-3",
        ("2025-04-01T10:00:00Z", "window"): None,  # a sensor nobody placed
    }


def test_a_page_of_readings_with_their_instruments_is_one_query_whatever_its_size(
    reader_client: APIClient, lab: Any, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    PlacementFactory(instrument=InstrumentFactory(instrument_id="TH-1"), room=lab, placed_at=T0)
    for i in range(40):
        MeasurementFactory(room=lab, timestamp=T0 + timedelta(minutes=i))
    for size in (5, 40):
        # Queries: the token with its user; the user's own and group permissions (the sensor
        # rule); the room (404 otherwise); the page, each reading's instrument included.
        with django_assert_max_num_queries(5):
            response = reader_client.get("/api/measurements/lab-1", {"page_size": size})
        assert [r["instrument"] for r in response.json()["results"]] == ["TH-1"] * size


def test_posting_a_reading_still_answers_as_before(
    client_for: Callable[[User], APIClient], lab: Any
) -> None:
    sensor = UserFactory(username="sensor", permissions=["measurements.add_measurement"])
    response = client_for(sensor).post(
        "/api/measurements/lab-1", {"value": 21.5, "timestamp": "2025-04-01T10:00:00Z"}
    )
    assert response.status_code == 201
    assert "instrument" not in response.json()
    assert client_for(sensor).get("/api/measurements/lab-1").status_code == 403
