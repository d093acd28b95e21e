"""Reads need a signed-in user; writes need the Django model permission for what they change."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from config.users import acting_user

_MODEL_PERMS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}


class ActionPermissions(permissions.BasePermission):
    """Authenticated for reads; for writes, `view.action_permissions[action]` or the model's.

    A view names the permissions of its custom write actions in
    `action_permissions = {"archive": ["tagging.change_tagassignment"]}`; any other
    write needs the add/change/delete permission of the view's queryset model.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
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
