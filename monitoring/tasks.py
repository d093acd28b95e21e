"""The worker's tasks (Huey, `manage.py run_huey`): delivering notifications. The periodic
sweeps are in `monitoring.periodic`."""

from huey.contrib.djhuey import db_task

from .delivery import deliver


@db_task()
def deliver_notification(notification_id: int) -> str:
    """Send one notification; after a failed attempt, try again when its backoff is over."""
    outcome = deliver(notification_id)
    if outcome.retry_in is not None:
        deliver_notification.schedule((notification_id,), delay=outcome.retry_in.total_seconds())
    return outcome.state
