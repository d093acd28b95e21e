"""The worker's periodic tasks (Huey): every minute, the no-data sweep, the repeats and the
outbox's lost deliveries, and the heartbeat the worker's health check reads; once a day, the
calibration due reminders; at start-up, the deliveries a stopped worker left."""

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, on_startup
from redis.exceptions import RedisError

from calibrations.conf import due_soon
from measurements.conf import stale_after

from .conf import alarm_repeat
from .services import deliveries_requeue, due_reminders_write, no_data_sweep, repeats_write

logger = logging.getLogger(__name__)

HEARTBEAT_KEY = "monitoring:worker-heartbeat"


def sweep(*, requeue: bool = True) -> dict[str, int]:
    """One round of what the worker does every minute (`check_alarms` runs it from cron,
    delivering itself rather than handing deliveries to a worker)."""
    now = timezone.now()
    silent = no_data_sweep(now=now, stale_after=stale_after())
    repeated = repeats_write(now=now, every=alarm_repeat())
    handed = deliveries_requeue(now=now) if requeue else 0
    return {"no_data": len(silent), "repeats": repeated, "handed_over": handed}


@on_startup()
def hand_over_what_is_due() -> None:
    """A worker that starts (after a crash, a deploy, a SIGKILL) takes up at once what the
    outbox holds pending and due, rather than at the next minute's sweep."""
    close_old_connections()
    try:
        cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
        deliveries_requeue(now=timezone.now())
    except (DatabaseError, RedisError) as error:
        logger.warning("start-up: the outbox could not be handed over: %s", error)
    finally:
        close_old_connections()


@db_periodic_task(crontab(minute="*"))
def every_minute() -> dict[str, int]:
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=None)
    done = sweep()
    if any(done.values()):
        logger.info("sweep: %s", done)
    return done


@db_periodic_task(crontab(hour=str(settings.DUE_REMINDER_HOUR), minute="0"))
def every_day() -> int:
    """The calibration due reminders, once a day."""
    return due_reminders_write(now=timezone.now(), within=due_soon())
