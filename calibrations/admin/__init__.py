"""Calibrations in the operator console: the list and a calibration's page (`changelist`),
their forms (`forms`), the files (`downloads`: export, snapshot, import), tags (`tags`), and the
instrument register (`instruments`)."""

from . import changelist, instruments, tags

__all__ = ["changelist", "instruments", "tags"]
