"""A calibration's audit trail in the console: the versions the service wrote, on its page and
as its History page (DESIGN §5: the audit trail is one thing, not two), and what a save
recorded in Django's own log."""

from datetime import UTC, datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from ..models import Calibration, CalibrationVersion
from ..services import RECORDED_FIELDS


def utc_us(moment: datetime | None) -> str:
    """An instant in UTC to the microsecond ("-" for none): an add and a remove within one
    second, or two corrections, must not look alike."""
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def version_diff(previous: CalibrationVersion | None, version: CalibrationVersion) -> str:
    """What a version changed from the one before ("value: 1.5 → 1.25"); for version 1, what
    it recorded."""

    def shown(v: CalibrationVersion, name: str) -> str:
        if name == "calibration_type":
            return v.calibration_type.name
        if name == "timestamp":
            return utc_us(v.timestamp)
        if name == "instrument":  # its id, on the row: no query per version
            return v.instrument_id or "-"
        return str(getattr(v, name))

    # What the service derived is shown with what staff recorded.
    names = (*RECORDED_FIELDS, "in_tolerance")
    if previous is None:
        return "; ".join(f"{name}: {shown(version, name)}" for name in names)
    return "; ".join(
        f"{name}: {shown(previous, name)} → {shown(version, name)}"
        for name in names
        if shown(previous, name) != shown(version, name)
    )


def version_rows(calibration: Calibration) -> list[tuple[Any, ...]]:
    """Every version, oldest first: number, change, when (UTC), by, what changed, why."""
    rows = []
    previous: CalibrationVersion | None = None
    for version in CalibrationVersion.objects.filter(calibration=calibration).for_history():
        rows.append(
            (
                version.version,
                version.change,
                utc_us(version.changed_at),
                version.changed_by or "-",
                version_diff(previous, version),
                version.reason or "-",
            )
        )
        previous = version
    return rows


class CalibrationVersionsAdmin(admin.ModelAdmin[Calibration]):
    """The versions on a calibration's page and behind its History link; a correction's log
    entry names what it changed, and a reason typed for no change is said to be dropped."""

    object_history_template = "admin/calibrations/calibration/object_history.html"

    @admin.display(description="Versions")
    def versions_table(self, calibration: Calibration) -> str:
        """Every version, oldest first, with what changed from the one before, who, when, why."""
        if calibration.pk is None:
            return "-"
        body = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="version-diff">{}</td>'
            "<td>{}</td></tr>",
            version_rows(calibration),
        )
        return format_html(
            '<table class="calibration-versions"><thead><tr><th>Version</th><th>Change</th>'
            "<th>When (UTC)</th><th>By</th><th>What changed</th><th>Why</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Django's History listed its own log ("Changed Timestamp." for a save that changed
        # nothing and wrote no version); the record's history is the versions the service wrote.
        calibration = self.get_object(request, unquote(object_id))
        if calibration is None:
            # As Django's own pages answer an unknown id: back to the list, saying so.
            self.message_user(
                request, f"No calibration has the id “{object_id}”.", messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:calibrations_calibration_changelist"))
        if not self.has_view_or_change_permission(request, calibration):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: calibration {calibration.pk}",
            "subtitle": None,
            "versions": version_rows(calibration),
            "module_name": str(self.opts.verbose_name_plural).capitalize(),
            "object": calibration,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # Django names the fields whose widgets' values moved (the timestamp, for a save that
        # changed nothing); the log names what the save recorded: the corrected fields, tags.
        if add:
            return super().construct_change_message(request, form, formsets, add)
        fields = [
            str(form.fields[name].label or name)
            for name in RECORDED_FIELDS
            if name in getattr(form, "recorded_changes", {})
        ]
        cleaned = getattr(form, "cleaned_data", {})
        if cleaned.get("add_tags"):
            fields.append("Add tags")
        if cleaned.get("remove_tags"):
            fields.append("Remove tags")
        return [{"changed": {"fields": fields}}] if fields else []

    def warn_reason_dropped(self, request: HttpRequest, form: Any) -> None:
        """Say so when a reason was typed but no recorded field changed: nothing keeps it."""
        reason = form.cleaned_data.get("change_reason") or ""
        if reason and not form.recorded_changes:
            self.message_user(
                request,
                f"The reason “{reason}” was not kept: no recorded field (type, value, "
                "timestamp, username) changed, so no new version was written. A reason is "
                "kept only with a correction.",
                messages.WARNING,
            )
