from django.apps import AppConfig


class CalibrationsConfig(AppConfig):
    """Device calibrations and their types."""

    name = "calibrations"
    verbose_name = "Calibrations"
