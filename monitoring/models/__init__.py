"""Monitoring's models: alarms, the targets that hear of them and the outbox (`alarms`), and
which instrument read which room's sensor when (`placements`)."""

from .alarms import (
    Alarm,
    AlarmKind,
    AlarmQuerySet,
    AlarmState,
    DeliveryState,
    DueReminder,
    Event,
    Notification,
    NotificationQuerySet,
    NotificationTarget,
    RoomJudgement,
)
from .placements import (
    Placement,
    PlacementQuerySet,
    PostgreSQLExclusionConstraint,
    TsTzRange,
    placed_at_instant,
)

__all__ = [
    "Alarm",
    "AlarmKind",
    "AlarmQuerySet",
    "AlarmState",
    "DeliveryState",
    "DueReminder",
    "Event",
    "Notification",
    "NotificationQuerySet",
    "NotificationTarget",
    "Placement",
    "PlacementQuerySet",
    "PostgreSQLExclusionConstraint",
    "RoomJudgement",
    "TsTzRange",
    "placed_at_instant",
]
