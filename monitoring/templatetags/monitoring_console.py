"""The console index's panels of what needs a person now (DESIGN §5). Each panel is an
inclusion tag that reads only what its viewer may see; `admin/monitoring/index.html` places
them."""

from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone

from calibrations.conf import due_soon
from calibrations.models import InstrumentStatus
from calibrations.selectors import instruments_needing_attention

from ..models import Alarm, DeliveryState, Notification
from ..notify import masked

register = template.Library()

# The index lists this many instruments; the register lists them all.
INSTRUMENTS_SHOWN = 15


@register.inclusion_tag("admin/monitoring/attention/instruments.html", takes_context=True)
def instruments_needing_attention_panel(context: dict[str, Any]) -> dict[str, Any]:
    """Instruments out of tolerance, overdue or due soon, soonest first (one query)."""
    request = context["request"]
    if not request.user.has_perm("calibrations.view_instrument"):
        return {"visible": False}
    rows = list(
        instruments_needing_attention(at=timezone.now(), within=due_soon())[: INSTRUMENTS_SHOWN + 1]
    )
    for instrument in rows:
        instrument.status_label = InstrumentStatus(instrument.status).label  # type: ignore[attr-defined]
    return {
        "visible": True,
        "instruments": rows[:INSTRUMENTS_SHOWN],
        "more": len(rows) > INSTRUMENTS_SHOWN,
        "register_url": reverse("admin:calibrations_instrument_changelist"),
    }


# The index lists this many open alarms and failed notifications; their lists show them all.
ALARMS_SHOWN = 15
FAILED_SHOWN = 10


@register.inclusion_tag("admin/monitoring/attention/alarms.html", takes_context=True)
def open_alarms_panel(context: dict[str, Any]) -> dict[str, Any]:
    """Open alarms (active, or cleared but not acknowledged), newest first, each with a form
    to acknowledge it with a comment (one query: the alarms and their rooms)."""
    request = context["request"]
    if not request.user.has_perm("monitoring.view_alarm"):
        return {"visible": False}
    rows = list(
        Alarm.objects.open()
        .select_related("room")
        .order_by("-raised_at", "-id")[: ALARMS_SHOWN + 1]
    )
    return {
        "visible": True,
        "alarms": rows[:ALARMS_SHOWN],
        "more": len(rows) > ALARMS_SHOWN,
        "can_acknowledge": request.user.has_perm("monitoring.change_alarm"),
        "list_url": reverse("admin:monitoring_alarm_changelist") + "?state=open",
        "next": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("admin/monitoring/attention/notifications.html", takes_context=True)
def failed_notifications_panel(context: dict[str, Any]) -> dict[str, Any]:
    """Notifications that gave up, newest first, with why (masked)."""
    request = context["request"]
    if not request.user.has_perm("monitoring.view_notification"):
        return {"visible": False}
    rows = list(
        Notification.objects.filter(state=DeliveryState.FAILED)
        .select_related("target")
        .order_by("-created_at", "-id")[: FAILED_SHOWN + 1]
    )
    for notification in rows:
        notification.error = masked(notification.target.url, notification.last_error)  # type: ignore[attr-defined]
    return {
        "visible": True,
        "notifications": rows[:FAILED_SHOWN],
        "more": len(rows) > FAILED_SHOWN,
        "list_url": reverse("admin:monitoring_notification_changelist") + "?state=failed",
    }
