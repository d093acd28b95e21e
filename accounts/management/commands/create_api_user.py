"""An API account and its token: an integrator's (records calibrations, tags them) or a
sensor's (posts readings, nothing else)."""

from typing import Any

from django.contrib.auth.models import Permission, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.permissions import SENSOR_PERMISSION
from accounts.usernames import checked_username

# What an integrator does through the API: record calibrations, add and remove tags, archive
# them, post readings, set a room's range and alarm rules, keep the instrument register and say
# where each instrument is placed (a lab's inventory system syncing in), acknowledge alarms and
# say where they are sent (a lab's dashboard or paging system). Reads need no permission, but
# the notification targets' (their URLs hold secrets, masked).
INTEGRATOR_PERMISSIONS = [
    "calibrations.add_calibration",
    "tagging.add_tagassignment",
    "tagging.change_tagassignment",
    "measurements.add_measurement",
    "measurements.change_room",
    "calibrations.add_instrument",
    "calibrations.change_instrument",
    "monitoring.add_placement",
    "monitoring.change_placement",
    "monitoring.change_alarm",
    "monitoring.view_notificationtarget",
    "monitoring.add_notificationtarget",
    "monitoring.change_notificationtarget",
]
# A sensor account holds this one permission and no other (DESIGN §4.1).
SENSOR_PERMISSIONS = [SENSOR_PERMISSION]


class Command(BaseCommand):
    help = (
        "Create an API account (or update an existing one's permissions) and print its token. "
        "Without --sensor it may record calibrations, tag them, post readings, keep rooms, "
        "instruments and notification targets and acknowledge alarms; with "
        "--sensor it may only post readings. It cannot sign in to the admin."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="The account's username, e.g. alice.")
        parser.add_argument(
            "--sensor",
            action="store_true",
            help="A sensor account: may post readings and nothing else.",
        )

    def handle(self, *args: Any, username: str, sensor: bool, **options: Any) -> None:
        name = checked_username(username, option="username")
        wanted = SENSOR_PERMISSIONS if sensor else INTEGRATOR_PERMISSIONS
        with transaction.atomic():
            user, created = User.objects.get_or_create(username=name)
            if user.is_superuser or user.is_staff:
                raise CommandError(
                    f"'{name}' is a staff account; give API access to a separate account."
                )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.user_permissions.set(_permissions(wanted))
            user.groups.clear()
            token, _ = Token.objects.get_or_create(user=user)
        kind = "sensor account" if sensor else "API account"
        self.stderr.write(
            self.style.SUCCESS(f"{'Created' if created else 'Updated'} {kind} '{name}'.")
            + f" Permissions: {', '.join(wanted)}. Its token:"
        )
        # The key alone on stdout, so `TOKEN=$(manage.py create_api_user alice)` works.
        self.stdout.write(token.key)


def _permissions(names: list[str]) -> list[Permission]:
    found = []
    for dotted in names:
        app_label, codename = dotted.split(".")
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found
