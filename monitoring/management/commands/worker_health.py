"""`worker_health`: exit 0 when the worker (run_huey) ran its every-minute sweep lately."""

from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.periodic import HEARTBEAT_KEY

# The sweep runs every minute: three missed minutes is a worker that is stuck or gone.
STALE_AFTER = timedelta(minutes=3)


class Command(BaseCommand):
    help = (
        "Health check of the worker (docker compose's worker service): exits 0 when its "
        "every-minute sweep ran in the last 3 minutes (or it started since), else 1."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        seen = cache.get(HEARTBEAT_KEY)
        if seen is None:
            raise CommandError("The worker has not run yet.")
        age = timezone.now() - datetime.fromisoformat(seen)
        if age > STALE_AFTER:
            raise CommandError(f"The worker last ran {int(age.total_seconds())} s ago.")
        self.stdout.write(f"The worker ran {int(age.total_seconds())} s ago.")
