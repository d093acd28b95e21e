"""The service's own plumbing has no tables (its migration creates the database cache's).
This module holds the receivers that keep the credentials cache true (config/credentials.py):
Django imports every installed app's models module at start-up, so every process that can
change an account — a worker, the admin, a management command, a shell — starts a new
credentials generation when it does."""

from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from rest_framework.authtoken.models import Token, TokenProxy

from config.credentials import credentials_changed


@receiver(post_save, sender=User)
@receiver(post_save, sender=Group)
@receiver(post_save, sender=Permission)
@receiver(post_save, sender=Token)
# The admin's Tokens page saves through this proxy, and Django names the proxy as the sender of
# a save (of a delete, the concrete model).
@receiver(post_save, sender=TokenProxy)
@receiver(post_delete, sender=User)
@receiver(post_delete, sender=Group)
@receiver(post_delete, sender=Permission)
@receiver(post_delete, sender=Token)
def account_row_changed(sender: Any, using: str | None = None, **kwargs: Any) -> None:
    """A user, group, permission or token was saved or deleted."""
    credentials_changed(using)


@receiver(m2m_changed, sender=User.groups.through)
@receiver(m2m_changed, sender=User.user_permissions.through)
@receiver(m2m_changed, sender=Group.permissions.through)
def account_link_changed(sender: Any, action: str, using: str | None = None, **kwargs: Any) -> None:
    """Someone joined or left a group, or a user or group gained or lost a permission."""
    if action.startswith("post_"):
        credentials_changed(using)
