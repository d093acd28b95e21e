"""`check_alarms`: one round of the worker's duties, for sites that run cron instead of it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from calibrations.conf import due_soon
from monitoring.delivery import deliver
from monitoring.models import Notification
from monitoring.periodic import sweep
from monitoring.services import due_reminders_write


class Command(BaseCommand):
    help = (
        "One no-data sweep, the repeats that are due, and one round of delivery of every "
        "pending notification that is due: what the worker (run_huey) does, for a site that "
        "runs this from cron every minute instead. With --due, first the calibration due "
        "reminders the worker writes once a day (run that once a day)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--due", action="store_true", help="Write the calibration due reminders first."
        )

    def handle(self, *args: Any, due: bool = False, **options: Any) -> None:
        reminders = due_reminders_write(now=timezone.now(), within=due_soon()) if due else 0
        done = sweep(requeue=False)
        outcomes: dict[str, int] = {}
        for pk in Notification.objects.due(timezone.now()).values_list("pk", flat=True):
            state = deliver(pk).state
            outcomes[state] = outcomes.get(state, 0) + 1
        self.stdout.write(
            self.style.SUCCESS(
                (f"{reminders} due reminder(s) written; " if due else "")
                + f"{done['no_data']} no-data alarm(s) raised, {done['repeats']} repeat(s) written; "
                f"notifications: {outcomes.get('sent', 0)} sent, "
                f"{outcomes.get('pending', 0)} waiting for another try, "
                f"{outcomes.get('failed', 0)} failed."
            )
        )
