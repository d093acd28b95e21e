"""Tags and their history in the operator console."""

import re
from datetime import UTC, date, datetime, time
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from config.admin import (
    DateRangeListFilter,
    EstimatedCountPaginator,
    InputListFilter,
    confirm_action,
    uuid_prefix_range,
)
from config.api.timestamps import TimestampError, parse_timestamp
from config.users import acting_user

from .models import Tag, TagAssignment, normalize_tag_name, tag_key
from .services import tag_archive, tag_get_or_create

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_as_of(raw: str) -> datetime:
    """The tag page's *As of*: an ISO 8601 instant (UTC without an offset, a space for the
    `T`), or a date alone, meaning the start of that day in UTC."""
    if _DATE.fullmatch(raw):
        try:
            return datetime.combine(date.fromisoformat(raw), time.min, tzinfo=UTC)
        except ValueError:
            raise TimestampError(f"'{raw}' is not a date.") from None
    return parse_timestamp(raw if "T" in raw else raw.replace(" ", "T", 1))


class AssignedTagFilter(InputListFilter):
    """Periods of the typed tag (any case)."""

    title = "tag"
    parameter_name = "tag_name"
    placeholder = "tag name"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        name = (self.value() or "").strip()
        return queryset.filter(tag__in=Tag.objects.named(name)) if name else queryset


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin[Tag]):
    list_display = ["name", "active_count", "created_at"]
    search_fields = ["name"]
    search_help_text = "Part of a tag's name, any case."
    readonly_fields = ["created_at"]
    actions = ["archive"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return Tag.objects.with_active_count()

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Tag], search_term: str
    ) -> tuple[QuerySet[Tag], bool]:
        # On the case-insensitive key, not `name__icontains`: SQLite's LIKE folds ASCII only,
        # so "ärger" did not find "Ärger" there.
        term = tag_key(search_term.strip())
        return (queryset.filter(name_key__contains=term) if term else queryset), False

    def save_model(self, request: HttpRequest, obj: Tag, form: Any, change: bool) -> None:
        # Through the service the API uses; the form has refused a name already taken.
        created = tag_get_or_create(name=obj.name)
        obj.pk, obj.name, obj.name_key, obj.created_at = (
            created.pk,
            created.name,
            created.name_key,
            created.created_at,
        )
        obj._state.adding = False

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
    def archive(self, request: HttpRequest, queryset: QuerySet[Tag]) -> TemplateResponse | None:
        # Many rows change: ask first, as delete does.
        tags = list(queryset.order_by("name_key"))
        # The changelist's queryset counts each tag's calibrations already (`get_queryset`).
        counts: dict[int, int] = {t.pk: t.active_count for t in tags}  # type: ignore[attr-defined]
        total = sum(counts.values())
        confirmation = confirm_action(
            self,
            request,
            title="Archive tags",
            question=(
                f"Archive {len(tags)} tag(s)? They are removed now from the {total} "
                "calibration(s) carrying them; the history and the tags themselves stay."
            ),
            items=[f"{t.name}: carried by {counts.get(t.pk, 0)} calibration(s) now" for t in tags],
        )
        if confirmation is not None:
            return confirmation
        for tag in tags:
            removed = tag_archive(tag=tag, user=acting_user(request))
            self.message_user(
                request,
                f"Archived '{tag.name}': removed from {removed} calibration(s).",
                messages.SUCCESS,
            )
        return None


@admin.register(TagAssignment)
class TagAssignmentAdmin(admin.ModelAdmin[TagAssignment]):
    """History is written only through the tagging services, so it is read-only here."""

    list_display = ["tag", "calibration_link", "added_at", "removed_at", "added_by", "removed_by"]
    list_filter = [
        AssignedTagFilter,
        ("added_at", DateRangeListFilter),
        ("added_at", admin.DateFieldListFilter),
    ]
    search_fields = ["tag__name"]
    search_help_text = "A tag's exact name (any case), or a calibration id's beginning."
    list_select_related = ["tag", "added_by", "removed_by"]
    raw_id_fields = ["calibration", "tag", "added_by", "removed_by"]
    # Newest first along the index on (added_at, id) (migration 0003): a page reads its own
    # rows. Sortable by when a period opened, the one order an index serves.
    ordering = ["-added_at", "-id"]
    sortable_by = ("added_at",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Calibration")
    def calibration_link(self, assignment: TagAssignment) -> str:
        # The id is on the row: no join. Its first 8 characters keep the list 1280 px wide.
        pk = assignment.calibration_id
        url = reverse("admin:calibrations_calibration_change", args=[pk])
        return format_html(
            '<a class="console-short-id" href="{}" title="{}">{}</a>', url, pk, str(pk)[:8]
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[TagAssignment], search_term: str
    ) -> tuple[QuerySet[TagAssignment], bool]:
        # A tag by its unique case-insensitive key, or a calibration id prefix as a range on the
        # (calibration, added_at) index: no scan of millions of periods.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            name = normalize_tag_name(term)
        except ValidationError:
            name = None
        if name is not None and Tag.objects.named(name).exists():
            return queryset.filter(tag__in=Tag.objects.named(name)), False
        id_range = uuid_prefix_range(term)
        if id_range is None:
            return queryset.none(), False
        return queryset.filter(
            calibration_id__gte=id_range[0], calibration_id__lte=id_range[1]
        ), False
