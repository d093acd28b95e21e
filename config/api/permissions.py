"""Reads need a signed-in user; writes need the Django model permission for what they change."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework import permissions
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request

from config.users import acting_user


class ModelPermissions(permissions.DjangoModelPermissions):
    """DRF's model permissions, with reads open to every signed-in user (unless the view names
    what its reads need in `read_permissions`, e.g. targets whose URLs carry secrets).

    A write needs the add/change/delete permission of the view's queryset model, unless the
    view names the permissions of the action in `action_permissions`
    (`{"archive": ["tagging.change_tagassignment"]}`): tagging a calibration changes tag
    history, not the calibration. Checked with `user.has_perms`, so Django's backends and
    their per-request permission cache decide.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method in permissions.SAFE_METHODS:
            # Reads are open, unless the view names the permissions its reads need.
            return bool(request.user.has_perms(getattr(view, "read_permissions", ())))
        if not hasattr(view, (request.method or "").lower()):
            # The route has no handler for this method: let the view answer 405.
            return True
        explicit = getattr(view, "action_permissions", {})
        action = getattr(view, "action", None)
        if action in explicit:
            return bool(request.user.has_perms(explicit[action]))
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            # A write on a view with no model and no named permission: only a superuser, who
            # may do everything; never a guess (nor DRF's assertion, a 500).
            return bool(request.user.is_superuser)
        return bool(super().has_permission(request, view))


def signed_in_user(request: Request) -> User:
    """The request's user, for services that record who acted (the permission ran first)."""
    user = acting_user(request)
    if user is None:
        raise NotAuthenticated()
    return user
