from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    """What joins calibrations and measurements and watches over them; at the top of the app
    order (DESIGN §2), so nothing below imports it."""

    name = "monitoring"
    verbose_name = "Monitoring"
