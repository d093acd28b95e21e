"""The worker's periodic tasks (Huey): every minute, the no-data sweep, the repeats and the
outbox's lost deliveries; the heartbeat the worker's health check reads."""

import logging

from django.core.cache import cache
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from measurements.conf import stale_after

from .conf import alarm_repeat
from .services import deliveries_requeue, no_data_sweep, repeats_write

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "monitoring:worker-heartbeat"


def sweep() -> dict[str, int]:
    """One round of what the worker does every minute; `check_alarms` runs it from cron."""
    now = timezone.now()
    silent = no_data_sweep(now=now, stale_after=stale_after())
    repeated = repeats_write(now=now, every=alarm_repeat())
    handed = deliveries_requeue(now=now)
    return {"no_data": len(silent), "repeats": repeated, "handed_over": handed}


@db_periodic_task(crontab(minute="*"))
def every_minute() -> dict[str, int]:
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
    done = sweep()
    if any(done.values()):
        logger.info("sweep: %s", done)
    return done
