"""The demo rooms' sensors, for `make run`: they keep posting, so the rooms look alive."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from measurements import clock
from measurements.demo import INTERVAL, last_instant, post_due_readings


class Command(BaseCommand):
    help = (
        "Post the demo rooms' readings as their sensors would, one per room every 10 minutes, "
        "until stopped (Ctrl-C): without them the demo rooms turn stale 15 minutes after "
        "seed_demo. `make run` starts it beside the server. --once posts what is due and stops."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Post the readings due now, then stop."
        )

    def handle(self, *args: Any, once: bool, **options: Any) -> None:
        try:
            while True:
                created = post_due_readings()
                if created:
                    self.stdout.write(f"Demo sensors: {created} reading(s) posted.")
                if once:
                    return
                # Until just after the next whole ten minutes, when the next readings are due.
                now = clock.now()
                time.sleep((last_instant(now) + INTERVAL - now).total_seconds() + 1)
        except KeyboardInterrupt:
            return
