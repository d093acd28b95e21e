"""The one rule for the usernames the account commands accept: Django's own for `User`."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError


def checked_username(raw: str, *, option: str) -> str:
    """`raw` if `User.username` accepts it (1–150 letters, digits and `@ . + - _`), else a
    CommandError naming `option`: an account named "" or "bad name" could not sign in through
    the admin's form nor be named again on a command line without quoting."""
    field = User._meta.get_field("username")
    try:
        return str(field.clean(raw, None))
    except ValidationError as exc:
        shown = repr(raw) if raw.strip() else "blank"
        raise CommandError(f"{option}: {shown} is refused. {' '.join(exc.messages)}") from None
