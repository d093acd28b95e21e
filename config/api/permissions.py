"""Reads need a signed-in user; writes need the Django model permission for what they change."""

from typing import Any

from django.contrib.auth.models import Permission, User
from django.db.models import Exists, OuterRef, Q
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from config.users import acting_user

_MODEL_PERMS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}

# A sensor account holds this permission and no other: it may post readings, nothing else.
SENSOR_PERMISSION = ("measurements", "add_measurement")
SENSOR_ACCOUNT_ATTRIBUTE = "_is_sensor_account"


def sensor_account_annotations(user_ref: str) -> dict[str, Exists]:
    """`has_sensor_permission` and `has_other_permission` of the user at `user_ref`, directly
    or through a group, as annotations (the token query carries them at no extra query)."""
    held = Permission.objects.filter(Q(user=OuterRef(user_ref)) | Q(group__user=OuterRef(user_ref)))
    app_label, codename = SENSOR_PERMISSION
    sensor = Q(content_type__app_label=app_label, codename=codename)
    return {
        "has_sensor_permission": Exists(held.filter(sensor)),
        "has_other_permission": Exists(held.exclude(sensor)),
    }


def is_sensor_account(user: Any) -> bool:
    """Whether `user` is a sensor account: not a superuser, and its only permission is
    `measurements.add_measurement`. Known from the token query; one query for a session."""
    known = getattr(user, SENSOR_ACCOUNT_ATTRIBUTE, None)
    if known is not None:
        return bool(known)
    result = False
    if isinstance(user, User) and not user.is_superuser:
        flags: Any = User.objects.filter(pk=user.pk).annotate(**sensor_account_annotations("pk"))
        row = flags.values("has_sensor_permission", "has_other_permission").first()
        result = bool(row and row["has_sensor_permission"] and not row["has_other_permission"])
    setattr(user, SENSOR_ACCOUNT_ATTRIBUTE, result)
    return result


class ActionPermissions(permissions.BasePermission):
    """Authenticated for reads; for writes, `view.action_permissions[action]` or the model's.

    A view names the permissions of its custom write actions in
    `action_permissions = {"archive": ["tagging.change_tagassignment"]}`; any other
    write needs the add/change/delete permission of the view's queryset model.
    A sensor account (see `is_sensor_account`) may only run the actions a view lists in
    `sensor_actions`; anything else, reads included, is a 403.
    """

    sensor_message = "This is a sensor account: it may only post readings."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if is_sensor_account(user):
            self.message = self.sensor_message
            return getattr(view, "action", None) in getattr(view, "sensor_actions", ())
        if request.method in permissions.SAFE_METHODS:
            return True
        action = getattr(view, "action", None)
        if action is None and hasattr(view, "action_map"):
            # The route has no handler for this method: let the view answer 405.
            return True
        return user.has_perms(self.required_permissions(request, view, action))

    def required_permissions(self, request: Request, view: Any, action: str | None) -> list[str]:
        explicit = getattr(view, "action_permissions", {})
        if action in explicit:
            return list(explicit[action])
        model = view.get_queryset().model
        verb = _MODEL_PERMS.get(request.method or "", "change")
        return [f"{model._meta.app_label}.{verb}_{model._meta.model_name}"]


def signed_in_user(request: Request) -> User:
    """The request's user, for services that record who acted (the permission ran first)."""
    user = acting_user(request)
    if user is None:
        raise NotAuthenticated()
    return user
