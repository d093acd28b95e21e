"""The impact of an out-of-tolerance calibration (DESIGN §4.7, ISO/IEC 17025 7.10): the window
from the instrument's last good calibration, its placements clipped to it, the readings it took
there and the excursions of those rooms."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db.models import ProtectedError
from rest_framework.test import APIClient

from calibrations.models import Calibration, CalibrationType, Instrument
from calibrations.services import calibration_create
from measurements.services import room_update
from monitoring.models import Alarm
from monitoring.services import placement_remove
from tests.factories import (
    CalibrationTypeFactory,
    InstrumentFactory,
    MeasurementFactory,
    PlacementFactory,
    RoomFactory,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, tzinfo=UTC)
GOOD_AT = T0 - timedelta(days=100)
FOUND_AT = T0 + timedelta(days=10)
MOVED_AT = T0 + timedelta(days=2)


def z(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def check() -> CalibrationType:
    return CalibrationTypeFactory(name="check", lower_limit=-0.5, upper_limit=0.5)


def calibrate(
    kind: CalibrationType, at: datetime, error: float, instrument: str = "TH-1"
) -> Calibration:
    return calibration_create(
        calibration_type=kind, value=error, username="a", timestamp=at, instrument_id=instrument
    )


@pytest.fixture
def history(check: CalibrationType) -> dict[str, Any]:
    """TH-1: good 100 days before T0, found out of tolerance 10 days after. Placed in lab-1
    (unnamed sensor) long before, moved to lab-2 (sensor `s`) 2 days after T0."""
    instrument = InstrumentFactory(instrument_id="TH-1")
    lab1 = RoomFactory(room_id="lab-1")
    lab2 = RoomFactory(room_id="lab-2")
    room_update(room=lab1, min_c=19.0, max_c=23.0)
    calibrate(check, T0 - timedelta(days=400), 0.2)
    calibrate(check, GOOD_AT, 0.1)
    found = calibrate(check, FOUND_AT, 0.8)
    calibrate(check, FOUND_AT + timedelta(days=1), 0.0)  # repaired: not part of this window
    first = PlacementFactory(instrument=instrument, room=lab1, placed_at=T0 - timedelta(days=200))
    placement_remove(placement=first, removed_at=MOVED_AT)
    PlacementFactory(instrument=instrument, room=lab2, sensor="s", placed_at=MOVED_AT)
    for at, value in (
        (GOOD_AT - timedelta(minutes=1), 21.0),  # before the window
        (GOOD_AT, 21.0),  # its start: counted
        (T0, 25.0),  # an excursion of lab-1
        (T0 + timedelta(hours=1), 21.0),
        (MOVED_AT, 21.0),  # the instant it left: no longer its reading
    ):
        MeasurementFactory(room=lab1, timestamp=at, value=value)
    # Not its sensor: not its reading, though the room's excursions count it.
    MeasurementFactory(room=lab1, timestamp=T0 + timedelta(minutes=30), sensor="other", value=21.0)
    for at in (MOVED_AT, FOUND_AT, FOUND_AT + timedelta(seconds=1)):
        MeasurementFactory(room=lab2, timestamp=at, sensor="s")
    return {"found": found, "instrument": instrument}


def test_the_impact_lists_what_the_instrument_measured_since_its_last_good_calibration(
    reader_client: APIClient, history: dict[str, Any]
) -> None:
    found = history["found"]
    response = reader_client.get(f"/api/calibrations/{found.pk}/impact")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "calibration_id": str(found.pk),
        "instrument": "TH-1",
        "from": z(GOOD_AT),
        "to": z(FOUND_AT),
        "placements": [
            {
                "room_id": "lab-1",
                "sensor": "",
                "from": z(GOOD_AT),
                "to": z(MOVED_AT),
                "readings": 3,
                "excursions": [
                    {
                        "kind": "high",
                        "start": z(T0),
                        "end": z(T0 + timedelta(minutes=30)),
                        "peak": 25.0,
                        "readings": 1,
                        "started_before": False,
                    }
                ],
            },
            {
                "room_id": "lab-2",
                "sensor": "s",
                "from": z(MOVED_AT),
                "to": z(FOUND_AT),
                "readings": 2,
                "excursions": [],
            },
        ],
        "readings": 5,
        "alarms": [],
    }


def test_the_impact_lists_the_alarms_of_those_rooms_while_the_instrument_was_there(
    reader_client: APIClient, history: dict[str, Any]
) -> None:
    lab1, lab2 = RoomFactory(room_id="lab-1"), RoomFactory(room_id="lab-2")

    def alarm(room: Any, opened: datetime, cleared: datetime | None) -> Alarm:
        return Alarm.objects.create(
            room=room, kind="high", opened_at=opened, cleared_at=cleared, peak=25.0
        )

    during = alarm(lab1, T0, T0 + timedelta(hours=1))
    alarm(lab1, GOOD_AT - timedelta(days=2), GOOD_AT - timedelta(days=1))  # before the window
    alarm(lab1, MOVED_AT + timedelta(hours=1), None)  # lab-1 after the instrument left it
    still_on = alarm(lab2, MOVED_AT - timedelta(days=1), None)  # lab-2, on when it arrived
    body = reader_client.get(f"/api/calibrations/{history['found'].pk}/impact").json()
    assert [a["id"] for a in body["alarms"]] == [during.pk, still_on.pk]
    assert body["alarms"][0]["room_id"] == "lab-1"
    assert "notifications" not in body["alarms"][0]


def test_without_an_earlier_good_calibration_the_window_opens_at_the_first_placement(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    lab = RoomFactory(room_id="lab-1")
    calibrate(check, T0 - timedelta(days=50), 0.9)  # out of tolerance too: not a start
    found = calibrate(check, T0, 0.9)
    PlacementFactory(instrument=instrument, room=lab, placed_at=T0 - timedelta(days=30))
    MeasurementFactory(room=lab, timestamp=T0 - timedelta(days=1))
    body = reader_client.get(f"/api/calibrations/{found.pk}/impact").json()
    assert (body["from"], body["to"], body["readings"]) == (z(T0 - timedelta(days=30)), z(T0), 1)


def test_an_instrument_never_placed_has_an_empty_impact(
    reader_client: APIClient, check: CalibrationType
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    found = calibrate(check, T0, 0.9)
    body = reader_client.get(f"/api/calibrations/{found.pk}/impact/").json()
    assert (body["from"], body["placements"], body["readings"]) == (None, [], 0)


def test_an_instrument_placed_only_after_the_calibration_measured_nothing_then(
    reader_client: APIClient, check: CalibrationType
) -> None:
    instrument = InstrumentFactory(instrument_id="TH-1")
    found = calibrate(check, T0, 0.9)
    PlacementFactory(
        instrument=instrument, room=RoomFactory(room_id="lab-1"), placed_at=T0 + timedelta(days=1)
    )
    body = reader_client.get(f"/api/calibrations/{found.pk}/impact").json()
    assert (body["placements"], body["readings"]) == ([], 0)


@pytest.mark.parametrize(
    ("value", "instrument", "says"),
    [(0.1, "TH-1", "in tolerance"), (5.0, None, "names no instrument")],
)
def test_a_calibration_in_tolerance_or_without_instrument_has_no_impact_409(
    reader_client: APIClient,
    check: CalibrationType,
    value: float,
    instrument: str | None,
    says: str,
) -> None:
    InstrumentFactory(instrument_id="TH-1")
    calibration = calibration_create(
        calibration_type=check, value=value, username="a", timestamp=T0, instrument_id=instrument
    )
    response = reader_client.get(f"/api/calibrations/{calibration.pk}/impact")
    assert response.status_code == 409
    assert says in response.json()["detail"]


def test_an_unassessed_calibration_has_no_impact_409(reader_client: APIClient) -> None:
    InstrumentFactory(instrument_id="TH-1")
    calibration = calibrate(CalibrationTypeFactory(name="gain"), T0, 99.0)
    response = reader_client.get(f"/api/calibrations/{calibration.pk}/impact")
    assert response.status_code == 409
    assert "not assessed" in response.json()["detail"]


@pytest.mark.parametrize("calibration_id", ["9b2f1c1e-0000-4000-8000-000000000000", "nope"])
def test_the_impact_of_an_unknown_calibration_is_a_404(
    reader_client: APIClient, calibration_id: str
) -> None:
    response = reader_client.get(f"/api/calibrations/{calibration_id}/impact")
    assert response.status_code == 404


def test_the_impact_costs_a_statement_per_placement_plus_a_few(
    reader_client: APIClient,
    history: dict[str, Any],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    # Queries: the token with its user; the user's own and group permissions (the sensor rule);
    # the calibration; the window's start; the placements with their rooms; every placement's
    # count in one (on PostgreSQL after its planner settings, one more); the alarms of all of
    # them in one; then each placement's excursions: on PostgreSQL one statement after its
    # planner settings (two), up to four on SQLite's portable path (the instant before the
    # window and its readings, the range versions, the instants).
    per_placement = 4
    with django_assert_max_num_queries(3 + 5 + 2 * per_placement):
        response = reader_client.get(f"/api/calibrations/{history['found'].pk}/impact")
    assert response.status_code == 200


def test_deleting_an_instrument_with_history_is_impossible(history: dict[str, Any]) -> None:
    with pytest.raises(ProtectedError):
        Instrument.objects.filter(pk="TH-1").delete()
