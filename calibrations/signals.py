"""What the calibrations app announces to the apps that build on it."""

from django.dispatch import Signal

# Sent by `calibration_correct` inside the correction's transaction, with `calibration` (as
# corrected) and `changed` (the names of the fields whose values changed). Apps that keep a
# copy of a calibration's fields listen here; calibrations itself knows none of them.
calibration_corrected = Signal()
