"""The lean `to_representation`s of placements, readings with their instrument, and impacts
write what DRF's field walk writes with the fields the serializers declare (and document)."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework import serializers

from calibrations.models import Calibration, Instrument, InstrumentStatus
from measurements.models import Measurement, Room
from measurements.selectors import Excursion
from monitoring.api.serializers import (
    ImpactSerializer,
    InstrumentReadingSerializer,
    PlacementSerializer,
    RoomPlacementSerializer,
)
from monitoring.models import Alarm, Placement
from monitoring.selectors import Impact, PlacementImpact

INSTANT = datetime(2025, 4, 1, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))


def drf_walk(serializer: serializers.BaseSerializer[Any], instance: Any) -> Any:
    """DRF's own representation: every declared field, one by one."""
    return serializers.Serializer.to_representation(serializer, instance)


def placement(removed: datetime | None) -> Placement:
    return Placement(
        id=3,
        instrument=Instrument(instrument_id="TH-1"),
        room=Room(room_id="lab-1"),
        sensor="north ✓",
        placed_at=INSTANT,
        removed_at=removed,
    )


@pytest.mark.parametrize("removed", [None, INSTANT + timedelta(days=1)])
def test_placement(removed: datetime | None) -> None:
    serializer = PlacementSerializer(placement(removed))
    assert serializer.data == drf_walk(serializer, placement(removed))
    assert serializer.data["placed_at"] == "2025-04-01T10:00:00.123456Z"


@pytest.mark.parametrize("due", [None, INSTANT])
def test_room_placement(due: datetime | None) -> None:
    row = placement(None)
    row.instrument_status = InstrumentStatus.OVERDUE  # type: ignore[attr-defined]
    row.instrument_due_at = due  # type: ignore[attr-defined]
    serializer = RoomPlacementSerializer(row)
    assert serializer.data == drf_walk(serializer, row)


@pytest.mark.parametrize("instrument", [None, "TH-1"])
def test_reading_with_its_instrument(instrument: str | None) -> None:
    reading = Measurement(room=Room(room_id="lab-1"), timestamp=INSTANT, sensor="", value=21.5)
    reading.instrument_id = instrument  # type: ignore[attr-defined]
    serializer = InstrumentReadingSerializer(reading, context={"unit": "F"})
    assert serializer.data == drf_walk(serializer, reading)
    assert serializer.data["instrument"] == instrument


@pytest.mark.parametrize("start", [None, INSTANT - timedelta(days=30)])
def test_impact(start: datetime | None) -> None:
    calibration = Calibration(id="5b3a1c5e-7d42-4a8e-9d8e-0c1f2a3b4c5d", instrument_id="TH-1")
    excursion = Excursion("high", INSTANT - timedelta(days=2), None, 24.5, 3)
    parts = (
        []
        if start is None
        else [PlacementImpact(placement(None), start, INSTANT, True, 12, [excursion])]
    )
    alarms = (
        []
        if start is None
        else [
            Alarm(
                id=7,
                room_id="lab-1",
                kind="high",
                opened_at=INSTANT - timedelta(days=2),
                raised_at=INSTANT - timedelta(days=2),
                cleared_at=INSTANT - timedelta(days=1),
                peak=24.5,
                readings=3,
                acknowledged_at=INSTANT,
                acknowledged_by="alice",
                comment="Door closed.",
            )
        ]
    )
    impact = Impact(calibration, start, INSTANT, parts, alarms)
    serializer = ImpactSerializer(impact)
    walked = {
        **drf_walk(serializer, _Walkable(impact)),
        "calibration_id": str(calibration.pk),
    }
    assert serializer.data == walked


class _Walkable:
    """An impact as the declared fields read it (their names, not the dataclass's)."""

    def __init__(self, impact: Impact) -> None:
        self.calibration_id = impact.calibration.pk
        self.instrument = impact.calibration.instrument_id
        setattr(self, "from", impact.start)  # a keyword: the field is renamed to it
        self.to = impact.end
        self.readings = impact.readings
        self.placements = [
            {
                "room_id": p.placement.room_id,
                "sensor": p.placement.sensor,
                "from": p.start,
                "to": p.end,
                "readings": p.readings,
                "excursions": p.excursions,
            }
            for p in impact.placements
        ]
        self.alarms = impact.alarms


def test_an_instant_is_written_in_utc() -> None:
    assert PlacementSerializer(placement(None)).data["placed_at"].endswith("Z")
    assert INSTANT.astimezone(UTC).hour == 10
