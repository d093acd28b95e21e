"""Demo rooms and readings for `seed_demo`: deterministic, so re-running adds nothing."""

import math
import random
from collections.abc import Callable
from datetime import timedelta

from . import clock
from .models import Measurement, Room
from .services import MAX_READINGS, Reading, readings_ingest, room_update

DEMO_ROOMS = {
    "lab-1": ("Calibration lab", 21.0),
    "lab-2": ("Optics lab", 20.0),
    "clean-room": ("Clean room", 19.5),
    "server-room": ("Server room", 24.0),
    "cold-store": ("Cold store", 4.0),
}
# Acceptable ranges (°C) a lab might set: tight enough that the daily swing leaves some of them,
# so the console shows excursions; the cold store has none (status `no_range`).
DEMO_RANGES = {
    "lab-1": (19.0, 22.6),
    "lab-2": (18.0, 22.0),
    "clean-room": (18.0, 20.8),
    "server-room": (18.0, 27.0),
}
INTERVAL = timedelta(minutes=10)
# One reading every 10 minutes over a week.
DEFAULT_READINGS_PER_ROOM = int(timedelta(days=7) / INTERVAL)


def seed_readings(per_room: int, progress: Callable[[int], None] | None = None) -> int:
    """Up to `per_room` readings for each demo room, one every 10 minutes back from now
    (aligned to 10 minutes) or, in a room seeded before, from its newest demo reading, so a
    rerun hits the same instants and adds nothing; return how many were new."""
    now = clock.now().replace(second=0, microsecond=0)
    now -= timedelta(minutes=now.minute % 10)
    created = done = 0
    for room_id, (name, mean) in DEMO_ROOMS.items():
        room, _ = Room.objects.get_or_create(room_id=room_id, defaults={"name": name})
        if not room.name:
            Room.objects.filter(pk=room_id, name="").update(name=name)
        # A room seeded before keeps its week: the rerun counts back from the newest demo
        # reading it has (not from now), hits the same instants and so adds nothing.
        seeded = (
            Measurement.objects.filter(room=room, sensor="", timestamp__lte=now)
            .order_by("-timestamp")
            .values_list("timestamp", flat=True)
            .first()
        )
        end = now
        if seeded is not None and seeded.second == 0 and seeded.microsecond == 0:
            end = seeded - timedelta(minutes=seeded.minute % 10)
        for start in range(0, per_room, MAX_READINGS):
            batch = []
            for i in range(start, min(start + MAX_READINGS, per_room)):
                at = end - i * INTERVAL
                # A daily swing, peaking mid-afternoon, plus noise fixed by the instant.
                hours = at.hour + at.minute / 60
                swing = 1.5 * math.sin((hours - 9) / 24 * 2 * math.pi)
                noise = random.Random(f"{room_id}{at.isoformat()}").gauss(0, 0.2)
                batch.append(Reading(timestamp=at, value=round(mean + swing + noise, 2)))
            created += readings_ingest(room_id=room_id, readings=batch).created
            done += len(batch)
            if progress:
                progress(done)
    seed_ranges()
    return created


def seed_ranges() -> None:
    """The demo rooms' acceptable ranges, where staff have not set one."""
    for room_id, (low, high) in DEMO_RANGES.items():
        if Room.objects.filter(pk=room_id, min_c__isnull=True).exists():
            room_update(room=room_id, min_c=low, max_c=high)
