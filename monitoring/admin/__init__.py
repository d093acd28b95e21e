"""Monitoring in the operator console: alarms, notification targets and the outbox; placements, and what it adds to the pages of lower apps
(re-registered from here, since they never import monitoring): an instrument's placements, an
out-of-tolerance calibration's impact, and on a room's page the impact window and the readings
of instruments overdue or out of tolerance. The console's index lists what needs a person."""

from . import alarms, attention, impact, placements, readings

__all__ = ["alarms", "attention", "impact", "placements", "readings"]
