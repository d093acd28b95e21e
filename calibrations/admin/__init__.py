"""Calibrations in the operator console: the list and a calibration's page (`changelist`),
their forms (`forms`), the files (`downloads`: export, snapshot, import), and tags (`tags`)."""

from . import changelist, tags

__all__ = ["changelist", "tags"]
