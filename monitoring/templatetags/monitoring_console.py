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
