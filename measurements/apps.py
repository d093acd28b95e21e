from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import check_settings


class MeasurementsConfig(AppConfig):
    """Rooms and the temperature readings their sensors post."""

    name = "measurements"
    verbose_name = "Measurements"

    def ready(self) -> None:
        checks.register(check_settings)
        # A system check runs for `manage.py check`, `migrate` and `runserver`, not when
        # gunicorn or a worker starts: a bad setting stops every process here as well.
        errors = check_settings()
        if errors:
            raise ImproperlyConfigured(errors[0].msg)
