"""What monitoring does when a lower app announces something (connected in `ready()`)."""

from datetime import datetime
from typing import Any

from measurements.signals import readings_stored

from .services import room_judge


def judge_new_readings(
    sender: Any,
    room_id: str,
    readings: list[tuple[datetime, float]] | None = None,
    **kwargs: Any,
) -> None:
    """New readings of a room were stored: judge them in the same transaction."""
    room_judge(room_id=room_id, stored=readings)


def connect() -> None:
    readings_stored.connect(judge_new_readings, dispatch_uid="monitoring.judge_new_readings")
