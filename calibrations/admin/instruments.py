"""The instrument register in the console: the list (status colour, due date, filters by status
and kind) and an instrument's page with its calibrations."""

from datetime import UTC, datetime
from typing import Any, cast

from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import PageContextAdmin

from ..conf import due_soon
from ..models import Calibration, Instrument, InstrumentStatus, status_filter
from ..services import INSTRUMENT_FIELDS, instrument_create, instrument_update

# How many of an instrument's calibrations its page lists (the rest: a link to them all).
CALIBRATIONS_SHOWN = 20


REGISTER = "calibrations_instrument_changelist"
PAGE = "calibrations_instrument_change"


def _view(request: HttpRequest) -> str | None:
    """Which console view the request is for (the admin names its URLs)."""
    match = getattr(request, "resolver_match", None)
    return None if match is None else match.url_name


def status_badge(status: str) -> str:
    """An instrument's status, coloured and in words."""
    return format_html(
        '<span class="instrument-status instrument-status-{}">{}</span>',
        status,
        InstrumentStatus(status).label,
    )


def utc_label(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


class StatusFilter(admin.SimpleListFilter):
    """Instruments by status, by the conditions the API's `?status=` filters on."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(InstrumentStatus.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in InstrumentStatus.values:
            return queryset
        return queryset.filter(status_filter(value, now=timezone.now(), due_soon=due_soon()))


@admin.register(Instrument)
class InstrumentAdmin(PageContextAdmin[Instrument]):
    list_display = [
        "instrument_id",
        "name",
        "kind",
        "status_column",
        "due_column",
        "last_calibration_column",
        "interval_column",
    ]
    list_filter = [StatusFilter, "kind"]
    search_fields = ["instrument_id", "name", "serial_number"]
    search_help_text = "Part of an instrument's id, name or serial number."
    list_select_related = False  # every column is the instrument's own or computed in its row
    change_form_template = "admin/calibrations/instrument/change_form.html"
    fields = [
        "instrument_id",
        "name",
        "kind",
        "serial_number",
        "calibration_interval_days",
        "retired_at",
        "created_at",
    ]

    class Media:
        css = {"all": ["calibrations/instruments.css"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet[Instrument]:
        # The register and an instrument's page: status, due date and last calibration per
        # row, computed in the page's one query. Elsewhere (the search widget of a
        # calibration's form, deletion) the plain rows: no status computed for every one.
        if _view(request) in (REGISTER, PAGE):
            return Instrument.objects.with_status(now=timezone.now(), due_soon=due_soon())
        return super().get_queryset(request)

    def get_ordering(self, request: HttpRequest) -> Any:
        # The register: soonest due first, as the API lists them; without a due date last.
        if _view(request) == REGISTER:
            return ["due_sort", "instrument_id"]
        return super().get_ordering(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Instrument | None = None) -> list[str]:
        # The id is how calibrations and placements name it: fixed once registered.
        return ["instrument_id", "created_at"] if obj else ["created_at"]

    def save_model(self, request: HttpRequest, obj: Instrument, form: Any, change: bool) -> None:
        # Through the services, as the API writes.
        if change:
            instrument_update(
                instrument=Instrument.objects.get(pk=obj.pk),
                **{name: getattr(obj, name) for name in INSTRUMENT_FIELDS},
            )
            return
        created = instrument_create(
            instrument_id=obj.instrument_id,
            **{name: getattr(obj, name) for name in INSTRUMENT_FIELDS},
        )
        obj.created_at = created.created_at

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # An instrument that a calibration, a version or a placement names is part of their
        # record (PROTECT): say so in words, rather than Django's list of protected rows.
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        named = [instrument for instrument in objs if _is_named(instrument)]
        if named:
            # Not a permission staff lack: nobody deletes these records.
            perms_needed = set()
            protected = [
                f"Instrument {instrument.pk}: calibrations or placements name it, and they are "
                "lab records, so it is kept. Set its “Retired at” to take it out of service."
                for instrument in named
            ]
        return deleted, counts, perms_needed, protected

    @admin.display(description="Status", ordering="status")
    def status_column(self, instrument: Instrument) -> str:
        return status_badge(instrument.status)  # type: ignore[attr-defined]

    @admin.display(description="Due (UTC)", ordering="due_at")
    def due_column(self, instrument: Instrument) -> str:
        due = instrument.due_at  # type: ignore[attr-defined]
        return utc_label(due).removesuffix(" UTC") if due else "-"

    @admin.display(description="Every", ordering="calibration_interval_days")
    def interval_column(self, instrument: Instrument) -> str:
        days = instrument.calibration_interval_days
        return "-" if days is None else f"{days} d"

    @admin.display(description="Last calibration", ordering="last_calibration_timestamp")
    def last_calibration_column(self, instrument: Instrument) -> str:
        pk = instrument.last_calibration_id  # type: ignore[attr-defined]
        if pk is None:
            return "-"
        url = reverse("admin:calibrations_calibration_change", args=[pk])
        judged = instrument.last_calibration_in_tolerance  # type: ignore[attr-defined]
        verdict = {True: "in tolerance", False: "out of tolerance", None: "not assessed"}[judged]
        done = instrument.last_calibration_timestamp  # type: ignore[attr-defined]
        return format_html(
            '<a class="nowrap" href="{}">{}</a><br><span class="verdict-{}">{}</span>',
            url,
            done.astimezone(UTC).strftime("%Y-%m-%d"),
            str(judged).lower(),
            verdict,
        )

    def page_context(self, request: HttpRequest, obj: Instrument) -> dict[str, Any]:
        calibrations = list(
            Calibration.objects.for_api()
            .filter(instrument=obj)
            .order_by("-timestamp", "-created_at")[: CALIBRATIONS_SHOWN + 1]
        )
        return {
            "instrument_status": status_badge(obj.status),  # type: ignore[attr-defined]
            "instrument_due": utc_label(obj.due_at),  # type: ignore[attr-defined]
            "instrument_calibrations": calibrations_table(calibrations[:CALIBRATIONS_SHOWN]),
            "instrument_calibrations_more": len(calibrations) > CALIBRATIONS_SHOWN,
            "instrument_calibrations_url": reverse("admin:calibrations_calibration_changelist")
            + f"?instrument={obj.pk}",
        }


def _is_named(instrument: Instrument) -> bool:
    """Whether a record that keeps it (a PROTECT foreign key, in any app) names it."""
    return any(
        cast(type[models.Model], relation.related_model)
        ._base_manager.filter(**{relation.field.name: instrument})
        .exists()
        for relation in Instrument._meta.related_objects
        if relation.on_delete is models.PROTECT
    )


def calibrations_table(calibrations: list[Calibration]) -> str:
    """An instrument's calibrations, newest first, each linked to its page."""
    verdicts = {True: "in tolerance", False: "out of tolerance", None: "not assessed"}
    rows = format_html_join(
        "",
        '<tr class="calibration-{}"><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>",
        (
            (
                str(c.in_tolerance).lower(),
                reverse("admin:calibrations_calibration_change", args=[c.pk]),
                utc_label(c.timestamp),
                c.calibration_type.name,
                f"{c.value:g}",
                verdicts[c.in_tolerance],
                c.username,
            )
            for c in calibrations
        ),
    )
    return format_html(
        '<table id="instrument-calibrations"><thead><tr><th>Done</th><th>Type</th><th>Value</th>'
        "<th>Tolerance</th><th>By</th></tr></thead><tbody>{}</tbody></table>",
        rows,
    )
