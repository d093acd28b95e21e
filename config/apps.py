from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Project-wide plumbing: operator commands that belong to no single app."""

    name = "config"
    verbose_name = "Service"
