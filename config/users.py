"""Who is acting on a request, for services that record it."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.request import Request


def acting_user(request: HttpRequest | Request) -> User | None:
    """The signed-in user of an admin or API request, or None for an anonymous one."""
    user = request.user
    return user if isinstance(user, User) else None
