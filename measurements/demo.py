"""Demo rooms and readings for `seed_demo` and `demo_sensors`: deterministic, so a reading is
never written twice, and current, so the demo rooms look alive."""

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from . import clock
from .models import Measurement, Room
from .services import MAX_READINGS, Reading, readings_ingest, room_update

DEMO_ROOMS = {
    "lab-1": ("Calibration lab", 21.0),
    "lab-2": ("Optics lab", 20.0),
    "clean-room": ("Clean room", 19.5),
    "server-room": ("Server room", 24.0),
    "cold-store": ("Cold store", 4.0),
    "stability-chamber": ("Stability chamber", 5.0),
}
# Acceptable ranges (°C) a lab might set: tight enough that the daily swing leaves some of them,
# so the console shows excursions; the cold store has none (status `no_range`).
DEMO_RANGES = {
    "lab-1": (19.0, 22.6),
    "lab-2": (18.0, 22.0),
    "clean-room": (18.0, 20.8),
    "server-room": (18.0, 27.0),
    "stability-chamber": (2.0, 8.0),
}
# The stability chamber was installed with its range and alarm rules, and its door was left
# open as it was first seeded: its readings from 50 minutes before it was created until two
# hours after are 6 °C warmer. So `make run` opens on a high alarm (raised once the readings
# had been out for its 15-minute delay, with its notification to the demo's console target),
# which the demo sensors' readings clear two hours later.
CHAMBER = "stability-chamber"
CHAMBER_ALARM_DELAY = timedelta(minutes=15)
CHAMBER_DEADBAND_C = 0.5
DOOR_OPEN = (timedelta(minutes=50), timedelta(hours=2))
DOOR_OPEN_WARMING = 6.0
INTERVAL = timedelta(minutes=10)
# One reading every 10 minutes over a week.
DEFAULT_READINGS_PER_ROOM = int(timedelta(days=7) / INTERVAL)


def demo_value(room: Room, at: datetime) -> float:
    """A demo room's temperature at `at`: its mean, a daily swing peaking mid-afternoon, and
    noise fixed by the instant (so every run writes the same value for an instant); the
    chamber's open door fixed by its creation."""
    room_id = room.room_id
    mean = DEMO_ROOMS[room_id][1]
    before, after = DOOR_OPEN
    if room_id == CHAMBER and room.created_at - before <= at < room.created_at + after:
        mean += DOOR_OPEN_WARMING
    hours = at.hour + at.minute / 60
    swing = 1.5 * math.sin((hours - 9) / 24 * 2 * math.pi)
    noise = random.Random(f"{room_id}{at.isoformat()}").gauss(0, 0.2)
    return round(mean + swing + noise, 2)


def last_instant(now: datetime) -> datetime:
    """The latest demo instant at or before `now`: readings fall on whole ten minutes."""
    return now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % 10)


def seed_readings(per_room: int, progress: Callable[[int], None] | None = None) -> int:
    """The demo rooms' readings: one every 10 minutes, at whole ten minutes, the `per_room`
    latest up to now; return how many were new.

    An instant a room already has a demo reading for is left alone, so a run again within the
    same ten minutes adds nothing, and a later run adds only the readings due since the last
    one: the rooms stay current (their charts' last 24 hours, their status) however long ago
    they were first seeded.
    """
    end = last_instant(clock.now())
    created = done = 0
    for room_id in DEMO_ROOMS:
        instants = [end - i * INTERVAL for i in range(per_room)]
        created += _post(room_id, instants, progress=progress, done=done)
        done += per_room
        if progress:
            progress(done)
    seed_ranges()
    return created


def post_due_readings() -> int:
    """What the demo rooms' sensors post now (`demo_sensors`): each room's demo readings due
    since its newest one, up to now (at most a week of them); return how many were new."""
    end = last_instant(clock.now())
    created = 0
    for room_id in DEMO_ROOMS:
        newest = (
            Measurement.objects.filter(room_id=room_id, sensor="", timestamp__lte=end)
            .order_by("-timestamp")
            .values_list("timestamp", flat=True)
            .first()
        )
        count = DEFAULT_READINGS_PER_ROOM
        if newest is not None:
            count = min(count, int((end - newest) / INTERVAL))
        created += _post(room_id, [end - i * INTERVAL for i in range(count)])
    return created


def _post(
    room_id: str,
    instants: list[datetime],
    progress: Callable[[int], None] | None = None,
    done: int = 0,
) -> int:
    """Post the demo readings of `instants` (newest first) a room has none for yet, as a
    sensor would; return how many were new. `progress` hears `done` plus the instants of this
    room gone through."""
    name = DEMO_ROOMS[room_id][0]
    room, new = Room.objects.get_or_create(
        room_id=room_id, defaults={"name": name, "created_at": clock.now()}
    )
    if new and room_id == CHAMBER:
        # Installed with its range and rules: its readings are judged from the first.
        low, high = DEMO_RANGES[room_id]
        room = room_update(
            room=room,
            min_c=low,
            max_c=high,
            alarm_delay=CHAMBER_ALARM_DELAY,
            alarm_deadband_c=CHAMBER_DEADBAND_C,
        )
    if not room.name:
        Room.objects.filter(pk=room_id, name="").update(name=name)
    if not instants:
        return 0
    there = set(
        Measurement.objects.filter(
            room=room, sensor="", timestamp__gte=instants[-1], timestamp__lte=instants[0]
        ).values_list("timestamp", flat=True)
    )
    due = [at for at in instants if at not in there]
    created = 0
    for first in range(0, len(due), MAX_READINGS):
        batch = [
            Reading(timestamp=at, value=demo_value(room, at))
            for at in due[first : first + MAX_READINGS]
        ]
        created += readings_ingest(room_id=room_id, readings=batch).created
        if progress:
            progress(done + len(instants) - len(due) + first + len(batch))
    return created


def seed_ranges() -> None:
    """The demo rooms' acceptable ranges, where staff have not set one."""
    for room_id, (low, high) in DEMO_RANGES.items():
        if Room.objects.filter(pk=room_id, min_c__isnull=True).exists():
            room_update(room=room_id, min_c=low, max_c=high)
