from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    """Rooms and the temperature readings their sensors post."""

    name = "measurements"
    verbose_name = "Measurements"
