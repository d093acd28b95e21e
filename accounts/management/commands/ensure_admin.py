"""`make run`'s last step: a local superuser with known credentials and an API token."""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from rest_framework.authtoken.models import Token

from accounts.usernames import checked_username


class Command(BaseCommand):
    help = (
        "Create (or reset) the local superuser, print its credentials, its API token and the "
        "URLs. Refuses to run unless DEBUG is on: it is for a developer's machine."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, username: str, password: str, port: int, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("ensure_admin is for local development only (DEBUG is off).")
        username = checked_username(username, option="--username")
        if not password.strip():
            # A blank password would be printed as working credentials of a superuser.
            raise CommandError("--password: blank is refused; give the admin a password.")
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        base = f"http://127.0.0.1:{port}"
        self.stdout.write(
            self.style.SUCCESS(f"{'Created' if created else 'Reset'} local admin user.")
            + f"""
  Admin:    {base}/admin/   user {username!r}, password {password!r}
  API:      {base}/api/   (browsable: Log in with the same account; Authorization: Token {token.key})
  Docs:     {base}/api/docs/   ReDoc: {base}/api/redoc/   Schema: {base}/api/schema/
  Try:      curl -H 'Authorization: Token {token.key}' {base}/api/calibrations
"""
        )
