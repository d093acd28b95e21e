"""Tags in the calibrations console: the changelist's tag actions and a calibration's tags go
through the tagging services; a tag's page lists the calibrations that carry it (now or as of
an instant), which the calibrations app adds to tagging's own page."""

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from config.admin import PageContextAdmin, confirm_action
from config.api.timestamps import TimestampError
from config.users import acting_user
from tagging.admin import TagAdmin, parse_as_of
from tagging.models import Tag, TagAssignment, normalize_tag_name
from tagging.services import TagNotActiveError, tag_remove, tags_add

from ..models import Calibration
from ..selectors import calibrations_carrying

# How many calibrations a tag's page lists; the changelist link shows them all.
TAG_PAGE_LIMIT = 100


class CalibrationTagActions(admin.ModelAdmin[Calibration]):
    """Tags on the calibrations console: the change form's tags to add and remove, and the
    changelist's actions adding or removing one tag on the selected calibrations."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        calibration, user = form.instance, acting_user(request)
        if form.cleaned_data.get("add_tags"):
            # Tags given on the Add page are carried from the instant the calibration exists.
            at = None if change else calibration.created_at
            tags_add(calibration=calibration, names=form.cleaned_data["add_tags"], user=user, at=at)
        for tag in form.cleaned_data.get("remove_tags") or []:
            try:
                tag_remove(calibration=calibration, name=tag.name, user=user)
            except TagNotActiveError as exc:  # someone else removed it meanwhile
                self.message_user(request, str(exc), messages.WARNING)

    @admin.action(description="Add the tag to the selected calibrations", permissions=["tag"])
    def add_tag(self, request: HttpRequest, queryset: QuerySet[Calibration]) -> None:
        name = self._action_tag(request)
        if name is None:
            return
        added = 0
        for calibration in queryset.order_by():
            added += any(
                r.created
                for r in tags_add(calibration=calibration, names=[name], user=acting_user(request))
            )
        self.message_user(request, f"Added '{name}' to {added} calibration(s).", messages.SUCCESS)

    @admin.action(
        description="Remove the tag from the selected calibrations", permissions=["untag"]
    )
    def remove_tag(
        self, request: HttpRequest, queryset: QuerySet[Calibration]
    ) -> TemplateResponse | None:
        name = self._action_tag(request)
        if name is None:
            return None
        tag = Tag.objects.named(name).first()
        if tag is None:
            self.message_user(
                request, f"No tag is named '{name}'; nothing removed.", messages.ERROR
            )
            return None
        carrying = calibrations_carrying(tag, as_of=timezone.now(), calibrations=queryset)
        count = carrying.count()
        if count == 0:
            self.message_user(
                request,
                f"None of the selected calibrations carries '{tag.name}'; nothing removed.",
                messages.WARNING,
            )
            return None
        confirmation = confirm_action(
            self,
            request,
            title=f"Remove the tag '{tag.name}'",
            question=(
                f"Remove '{tag.name}' from the {count} selected calibration(s) that carry it now? "
                "Their periods close now; the history stays."
            ),
            items=[
                f"{c.pk} · {c.calibration_type.name} · {c.username}"
                for c in carrying.select_related("calibration_type").order_by("-timestamp")[:20]
            ],
            total=count,
            fields={"tag": tag.name},
        )
        if confirmation is not None:
            return confirmation
        removed = 0
        for calibration in queryset.order_by():
            try:
                tag_remove(calibration=calibration, name=name, user=acting_user(request))
                removed += 1
            except TagNotActiveError:
                pass
        self.message_user(
            request, f"Removed '{name}' from {removed} calibration(s).", messages.SUCCESS
        )
        return None

    def has_tag_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tagging.add_tagassignment")

    def has_untag_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tagging.change_tagassignment")

    def _action_tag(self, request: HttpRequest) -> str | None:
        try:
            return normalize_tag_name(request.POST.get("tag", ""))
        except ValidationError as exc:
            self.message_user(request, f"Tag: {exc.messages[0]}", messages.ERROR)
            return None


class CalibrationsTagAdmin(PageContextAdmin[Tag], TagAdmin):
    """Tagging's tag page, with the calibrations that carry the tag, now or as of an instant,
    and links to the snapshot of that tag."""

    change_form_template = "admin/calibrations/tag/change_form.html"
    change_list_template = "admin/calibrations/tag/change_list.html"

    def page_context(self, request: HttpRequest, tag: Tag) -> dict[str, Any]:
        raw = request.GET.get("as_of", "").strip()
        error = ""
        instant: datetime = timezone.now()
        if raw:
            try:
                instant = parse_as_of(raw)
            except TimestampError as exc:
                error = str(exc)
        # Index-only on tagassignment_tag_cal_ts_idx (tag, …) INCLUDE (added_at, removed_at).
        count = TagAssignment.objects.as_of(instant).filter(tag=tag).count()
        calibrations = list(
            calibrations_carrying(
                tag, as_of=instant, calibrations=Calibration.objects.for_api()
            ).order_by("-timestamp", "-id")[: TAG_PAGE_LIMIT + 1]
        )
        return {
            "as_of": instant,
            "as_of_raw": raw,
            "as_of_error": error,
            "tagged_calibrations": calibrations[:TAG_PAGE_LIMIT],
            "tagged_more": len(calibrations) > TAG_PAGE_LIMIT,
            "tagged_count": count,
            "as_of_has_us": bool(instant.microsecond),
            "tag_page_limit": TAG_PAGE_LIMIT,
            "calibration_changelist": reverse("admin:calibrations_calibration_changelist"),
        }


admin.site.unregister(Tag)
admin.site.register(Tag, CalibrationsTagAdmin)
