"""Writes of the monitoring app (alarms, targets, the outbox, placements): the API, the
admin, the worker and the commands call these."""

from .alarms import AlreadyAcknowledgedError, alarm_acknowledge, no_data_sweep, repeats_write
from .judging import room_judge
from .outbox import deliveries_requeue, hand_over, notifications_write, targets_for
from .placements import (
    PlacementAlreadyRemoved,
    PlacementConflict,
    placement_create,
    placement_remove,
)
from .reminders import due_reminders_write
from .targets import target_create, target_send_test, target_update

__all__ = [
    "AlreadyAcknowledgedError",
    "PlacementAlreadyRemoved",
    "PlacementConflict",
    "alarm_acknowledge",
    "deliveries_requeue",
    "due_reminders_write",
    "hand_over",
    "no_data_sweep",
    "notifications_write",
    "placement_create",
    "placement_remove",
    "repeats_write",
    "room_judge",
    "target_create",
    "target_send_test",
    "target_update",
    "targets_for",
]
