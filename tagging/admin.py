"""Tags and their history in the operator console."""

from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from calibrations.models import Calibration
from config.admin import EstimatedCountPaginator, PageContextAdmin
from config.api.timestamps import TimestampError, parse_timestamp
from config.users import acting_user

from .models import Tag, TagAssignment
from .selectors import calibrations_carrying
from .services import tag_archive

# How many calibrations a tag's page lists; the changelist link shows them all.
TAG_PAGE_LIMIT = 100


@admin.register(Tag)
class TagAdmin(PageContextAdmin[Tag]):
    list_display = ["name", "active_count", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]
    actions = ["archive"]
    change_form_template = "admin/tagging/tag/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return Tag.objects.with_active_count()

    @admin.display(description="Calibrations carrying it now", ordering="active_count")
    def active_count(self, tag: Tag) -> int:
        return tag.active_count  # type: ignore[attr-defined]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A tag's name is part of history: it is never renamed. The page is for looking.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("tagging.change_tagassignment")

    @admin.action(
        description="Archive the selected tags (remove them from every calibration now)",
        permissions=["archive"],
    )
    def archive(self, request: HttpRequest, queryset: QuerySet[Tag]) -> None:
        for tag in queryset:
            removed = tag_archive(tag=tag, user=acting_user(request))
            self.message_user(
                request,
                f"Archived '{tag.name}': removed from {removed} calibration(s).",
                messages.SUCCESS,
            )

    def page_context(self, request: HttpRequest, tag: Tag) -> dict[str, Any]:
        raw = request.GET.get("as_of", "").strip()
        error = ""
        instant: datetime = timezone.now()
        if raw:
            try:
                instant = parse_timestamp(raw if "T" in raw else raw.replace(" ", "T", 1))
            except TimestampError as exc:
                error = str(exc)
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
            "tag_page_limit": TAG_PAGE_LIMIT,
            "calibration_changelist": reverse("admin:calibrations_calibration_changelist"),
        }


@admin.register(TagAssignment)
class TagAssignmentAdmin(admin.ModelAdmin[TagAssignment]):
    """History is written only through the tagging services, so it is read-only here."""

    list_display = ["tag", "calibration", "added_at", "removed_at", "added_by", "removed_by"]
    list_filter = ["tag"]
    list_select_related = [
        "tag",
        "calibration",
        "calibration__calibration_type",
        "added_by",
        "removed_by",
    ]
    raw_id_fields = ["calibration", "tag", "added_by", "removed_by"]
    # Newest recorded first, read backwards from the primary key (periods are recorded as
    # they happen): sorting millions of periods by added_at took seconds. No click-to-sort.
    ordering = ["-id"]
    sortable_by = ()
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
