"""The sensor-account rule: an account that may post readings and do nothing else."""

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

# An account whose only permission is this one is a sensor account.
SENSOR_PERMISSION = "measurements.add_measurement"


def is_sensor_account(user: Any) -> bool:
    """Whether `user` is a sensor account: signed in, not a superuser, and holding
    `measurements.add_measurement` and no other permission (directly or through groups)."""
    if not (user and user.is_authenticated) or user.is_superuser:
        return False
    return bool(user.get_all_permissions() == {SENSOR_PERMISSION})


class SensorAccountPermission(permissions.BasePermission):
    """A sensor account may run only the actions a view lists in `sensor_actions`.

    Installed as a default permission class, so every route, present and future, refuses a
    sensor account (reads included) unless it opts in: a leaked sensor token reads nothing.
    """

    message = "This is a sensor account: it may only post readings."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not is_sensor_account(request.user):
            return True
        return getattr(view, "action", None) in getattr(view, "sensor_actions", ())
