"""The receivers that keep the credentials cache true (accounts/credentials.py): any save or
delete of a user, group, permission or token, and any change of who is in a group or holds a
permission, starts a new generation. `AccountsConfig.ready()` connects them, so every process
that can change an account (a worker, the admin, a command, a shell) does so."""

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework.authtoken.models import Token, TokenProxy

from .credentials import credentials_changed

DISPATCH_UID = "accounts.credentials"


def account_row_changed(sender: Any, using: str | None = None, **kwargs: Any) -> None:
    """A user, group, permission or token was saved or deleted."""
    credentials_changed(using)


def account_link_changed(sender: Any, action: str, using: str | None = None, **kwargs: Any) -> None:
    """Someone joined or left a group, or a user or group gained or lost a permission."""
    if action.startswith("post_"):
        credentials_changed(using)


def connect() -> None:
    """Connect the receivers (idempotent: each has a dispatch uid)."""
    # The admin's Tokens page saves through TokenProxy, and Django names the proxy as the
    # sender of a save (of a delete, the concrete model).
    for model in (User, Group, Permission, Token, TokenProxy):
        post_save.connect(account_row_changed, sender=model, dispatch_uid=DISPATCH_UID)
    for model in (User, Group, Permission, Token):
        post_delete.connect(account_row_changed, sender=model, dispatch_uid=DISPATCH_UID)
    for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(account_link_changed, sender=through, dispatch_uid=DISPATCH_UID)
