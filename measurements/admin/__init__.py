"""Rooms and readings in the operator console (registered by the modules imported here)."""

from .readings import ArchivedMeasurementAdmin, MeasurementAdmin
from .rooms import RoomAdmin

__all__ = ["ArchivedMeasurementAdmin", "MeasurementAdmin", "RoomAdmin"]
