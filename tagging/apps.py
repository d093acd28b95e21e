from django.apps import AppConfig


class TaggingConfig(AppConfig):
    """Tags on calibrations, with every period a tag was carried kept as history."""

    name = "tagging"
    verbose_name = "Tagging"
