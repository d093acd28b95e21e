from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import check_settings


class CalibrationsConfig(AppConfig):
    """Device calibrations, their types, and the register of the instruments calibrated."""

    name = "calibrations"
    verbose_name = "Calibrations"

    def ready(self) -> None:
        checks.register(check_settings)
        # As measurements does for its own: a bad setting stops gunicorn and workers too.
        errors = check_settings()
        if errors:
            raise ImproperlyConfigured(errors[0].msg)
