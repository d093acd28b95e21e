from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import check_settings


class MonitoringConfig(AppConfig):
    """What joins calibrations and measurements and watches over them: alarms, notification
    targets and the outbox, and the worker's tasks. At the top of the app order (DESIGN §2):
    nothing below imports it."""

    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        checks.register(check_settings)
        errors = check_settings()
        if errors:
            raise ImproperlyConfigured(errors[0].msg)
        # The models are ready only now: the receivers, and the worker's periodic tasks (which
        # `run_huey` runs), are registered with them.
        from . import periodic, receivers  # noqa: F401  (importing periodic registers its tasks)

        receivers.connect()
