"""Token authentication that also learns, in the same query, whether the user is a sensor."""

from typing import Any

from django.contrib.auth.models import User
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from .permissions import SENSOR_ACCOUNT_ATTRIBUTE, sensor_account_annotations


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <key>`, with the sensor-account test folded into its query,
    so restricting sensor accounts costs no query per request."""

    def authenticate_credentials(self, key: str) -> tuple[User, Any]:
        try:
            token: Any = (
                Token.objects.select_related("user")
                .annotate(**sensor_account_annotations("user"))
                .get(key=key)
            )
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        user: User = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        setattr(
            user,
            SENSOR_ACCOUNT_ATTRIBUTE,
            not user.is_superuser
            and token.has_sensor_permission
            and not token.has_other_permission,
        )
        return user, token
