"""Monitoring's demo data for `seed_demo`: a target that writes every notification to the
worker's log (so `make run` prints the demo chamber's alarm), and each demo room's thermometer
placed as its (unnamed) sensor, the sensor the demo readings come from, since before the week
of readings."""

from datetime import timedelta

from django.utils import timezone

from calibrations.models import Instrument

from .models import Event, NotificationTarget, Placement
from .services import placement_create, target_create

DEMO_TARGET = "Console log (demo)"

# instrument id → room id; the demo readings carry sensor "".
DEMO_PLACEMENTS = {
    "TH-LAB1": "lab-1",
    "TH-LAB2": "lab-2",
    "TH-CLEAN": "clean-room",
    "TH-SERVER": "server-room",
    "TH-COLD": "cold-store",
}
PLACED_DAYS_AGO = 30


def seed_placements() -> int:
    """Place each demo thermometer in its room, unless it (or the room's sensor) is placed
    already; how many placements were new."""
    placed_at = timezone.now().replace(second=0, microsecond=0) - timedelta(days=PLACED_DAYS_AGO)
    created = 0
    for instrument_id, room_id in DEMO_PLACEMENTS.items():
        instrument = Instrument.objects.filter(pk=instrument_id).first()
        if instrument is None or Placement.objects.filter(instrument=instrument).exists():
            continue
        if Placement.objects.filter(room_id=room_id, sensor="").exists():
            continue
        placement_create(instrument=instrument, room_id=room_id, sensor="", placed_at=placed_at)
        created += 1
    return created


def seed_target() -> int:
    """The demo's console target, hearing of every event in every room, unless a target of
    that name is there already (staff may have changed or disabled it); 1 if it was new."""
    if NotificationTarget.objects.filter(name=DEMO_TARGET).exists():
        return 0
    target_create(name=DEMO_TARGET, url="console://", events=Event.values)
    return 1
