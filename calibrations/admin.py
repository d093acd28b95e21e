"""Calibrations in the operator console: corrections are logged, tags go through the services."""

from datetime import UTC
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import (
    DateRangeListFilter,
    EstimatedCountPaginator,
    InputListFilter,
    confirm_action,
)
from config.users import acting_user
from tagging.models import Tag, TagAssignment, normalize_tag_name
from tagging.selectors import calibrations_carrying, tag_names_by_calibration
from tagging.services import TagNotActiveError, tag_remove, tags_add

from .models import Calibration, CalibrationType
from .services import RECORDED_FIELDS, calibration_correct, calibration_create


@admin.register(CalibrationType)
class CalibrationTypeAdmin(admin.ModelAdmin[CalibrationType]):
    list_display = ["name", "unit", "description"]
    search_fields = ["name", "description"]


class TagActionForm(ActionForm):
    """The changelist's action bar, with the tag name the tag actions need."""

    tag = forms.CharField(required=False, max_length=100, label="Tag")


class CalibrationForm(forms.ModelForm[Calibration]):
    """The calibration's fields, plus tags to add and tags to remove (through the services)."""

    add_tags = forms.CharField(
        required=False,
        label="Add tags",
        help_text="Comma-separated tag names; new names become new tags.",
    )
    remove_tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(),
        required=False,
        label="Remove tags",
        widget=forms.CheckboxSelectMultiple,
        help_text="Tags it carries now; removing one closes its period, the history stays.",
    )

    class Meta:
        model = Calibration
        fields = ["calibration_type", "value", "timestamp", "username"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            field = self.fields["remove_tags"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = Tag.objects.filter(
                assignments__in=TagAssignment.objects.active().filter(calibration=self.instance)
            )
        else:
            del self.fields["remove_tags"]

    def clean_add_tags(self) -> list[str]:
        raw = self.cleaned_data.get("add_tags") or ""
        names = []
        for part in raw.split(","):
            if part.strip():
                try:
                    names.append(normalize_tag_name(part))
                except ValidationError as exc:
                    raise ValidationError(f"'{part.strip()}': {exc.messages[0]}") from None
        return names


class TagHistoryInline(admin.TabularInline[TagAssignment, Calibration]):
    """Every period the calibration carried a tag; written only by the services."""

    model = TagAssignment
    fields = ["tag", "added_at_us", "added_by", "removed_at_us", "removed_by"]
    readonly_fields = ["tag", "added_at_us", "added_by", "removed_at_us", "removed_by"]
    ordering = ["added_at", "id"]
    extra = 0
    can_delete = False
    verbose_name = "tag period"
    verbose_name_plural = "Tag history (read-only)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[TagAssignment]:
        return super().get_queryset(request).select_related("tag", "added_by", "removed_by")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # To the microsecond: an add and a remove within one second must not look alike.
    @admin.display(description="Added at (UTC)")
    def added_at_us(self, assignment: TagAssignment) -> str:
        return _utc_us(assignment.added_at)

    @admin.display(description="Removed at (UTC)")
    def removed_at_us(self, assignment: TagAssignment) -> str:
        return _utc_us(assignment.removed_at)


def _utc_us(moment: Any) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class CarryingTagFilter(InputListFilter):
    """Calibrations carrying the typed tag now (any case); none when no tag has that name."""

    title = "tag carried now"
    parameter_name = "tag"
    placeholder = "tag name"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        name = (self.value() or "").strip()
        if not name:
            return queryset
        tag = Tag.objects.named(name).first()
        if tag is None:
            return queryset.none()
        return calibrations_carrying(tag, as_of=timezone.now(), calibrations=queryset)


class TaggedChangeList(ChangeList):
    """The calibrations changelist: the tags each row of the page carries now, in one query."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        page = list(self.result_list)
        names = tag_names_by_calibration([c.pk for c in page], as_of=timezone.now())
        for calibration in page:
            calibration.tag_names = names[calibration.pk]
        self.result_list = page


@admin.register(Calibration)
class CalibrationAdmin(admin.ModelAdmin[Calibration]):
    form = CalibrationForm
    # Fits 1280 × 800: the id's first 8 characters link to the record (issue 12).
    list_display = ["short_id", "calibration_type", "value", "timestamp", "username", "tags_now"]
    list_display_links = ["short_id"]
    # Date filters rather than a date hierarchy: the hierarchy's list of years is a
    # DISTINCT over every row (~200 ms on a million), the filters' choices cost nothing.
    list_filter = [
        "calibration_type",
        CarryingTagFilter,
        ("timestamp", DateRangeListFilter),
        ("timestamp", admin.DateFieldListFilter),
    ]
    list_select_related = ["calibration_type"]
    search_fields = ["username"]
    search_help_text = (
        "A username's beginning (any case), a calibration id's beginning, "
        "or a tag's exact name (calibrations carrying it now)."
    )
    ordering = ["-timestamp", "-id"]
    autocomplete_fields = ["calibration_type"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["id", "created_at", "created_by"]
    inlines = [TagHistoryInline]
    actions = ["add_tag", "remove_tag"]
    action_form = TagActionForm
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fieldsets = [
        (None, {"fields": ["id", "calibration_type", "value", "timestamp", "username"]}),
        ("Tags", {"fields": ["add_tags", "remove_tags"]}),
        ("Record", {"fields": ["created_at", "created_by"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Calibration | None = None) -> Any:
        if obj is None:
            return [
                (None, {"fields": ["calibration_type", "value", "timestamp", "username"]}),
                ("Tags", {"fields": ["add_tags"]}),
            ]
        return self.fieldsets

    def get_queryset(self, request: HttpRequest) -> QuerySet[Calibration]:
        return Calibration.objects.for_api()

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return TaggedChangeList

    # --- h-consoles (issue 12): finding calibrations, the list's columns, the Add form ------

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Calibration], search_term: str
    ) -> tuple[QuerySet[Calibration], bool]:
        # Each way of matching walks an index on a table of millions of rows: a tag's name
        # (unique index on UPPER(name)) → its active periods; a username prefix → the
        # PostgreSQL index on UPPER(username) text_pattern_ops (migration 0003); an id prefix
        # → a range on the primary key. docs/admin.md has the plans.
        term = search_term.strip()
        if not term:
            return queryset, False
        tag = Tag.objects.named(term).first() if _could_be_tag(term) else None
        if tag is not None:
            return calibrations_carrying(tag, as_of=timezone.now(), calibrations=queryset), False
        matches = Q(username__istartswith=term)
        id_range = uuid_prefix_range(term)
        if id_range is not None:
            matches |= Q(pk__gte=id_range[0], pk__lte=id_range[1])
        return queryset.filter(matches), False

    @admin.display(description="Id", ordering="id")
    def short_id(self, calibration: Calibration) -> str:
        return format_html(
            '<span class="console-short-id" title="{}">{}</span>',
            calibration.pk,
            str(calibration.pk)[:8],
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # The API defaults `username` to the signed-in user; the Add form does too.
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("username", request.user.get_username())
        return initial

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        # A calibration being added has no history: no empty table on the Add page.
        return super().get_inline_instances(request, obj) if obj is not None else []

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "timestamp" and field is not None:
            field.help_text = "When it was done, in UTC."
        return field

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # A calibration that ever carried a tag keeps its history (DESIGN §3): say so, rather
        # than Django's "your account lacks permission to delete tag assignments".
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        ids = [obj.pk for obj in objs]
        with_history = set(
            TagAssignment.objects.filter(calibration_id__in=ids)
            .values_list("calibration_id", flat=True)
            .distinct()
        )
        if with_history:
            perms_needed = set()
            protected = [
                f"Calibration {pk}: it has tag history, which is kept for the record. "
                "Remove its tags instead; the history stays."
                for pk in ids
                if pk in with_history
            ]
        return deleted, counts, perms_needed, protected

    # --- end h-consoles -----------------------------------------------------------------

    @admin.display(description="Tags now")
    def tags_now(self, calibration: Calibration) -> str:
        # Set on each row of the page by `TaggedChangeList`.
        names: list[str] = getattr(calibration, "tag_names", [])
        return format_html_join(", ", "{}", ((name,) for name in names))

    def save_model(self, request: HttpRequest, obj: Calibration, form: Any, change: bool) -> None:
        if change:
            calibration_correct(
                calibration=obj,
                user=acting_user(request),
                **{name: form.cleaned_data[name] for name in RECORDED_FIELDS},
            )
            return
        created = calibration_create(
            calibration_type=obj.calibration_type,
            value=obj.value,
            username=obj.username,
            timestamp=obj.timestamp,
            created_by=acting_user(request),
        )
        obj.pk, obj.created_at, obj.created_by = created.pk, created.created_at, created.created_by
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        calibration, user = form.instance, acting_user(request)
        if form.cleaned_data.get("add_tags"):
            tags_add(calibration=calibration, names=form.cleaned_data["add_tags"], user=user)
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
        # --- h-consoles (issue 12): an unknown tag is said so; many rows ask first --------
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
        # --- end h-consoles ---------------------------------------------------------------
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


def _could_be_tag(term: str) -> bool:
    """Whether `term` is a valid tag name (else it cannot name one: no query)."""
    try:
        normalize_tag_name(term)
    except ValidationError:
        return False
    return True


def uuid_prefix_range(term: str) -> tuple[str, str] | None:
    """The lowest and highest UUIDs starting with the hex digits of `term` (dashes ignored),
    or None when `term` is not 1–32 hex digits. A range keeps the primary key's index."""
    digits = term.replace("-", "").lower()
    if not 1 <= len(digits) <= 32 or any(ch not in "0123456789abcdef" for ch in digits):
        return None

    def spell(hex32: str) -> str:
        return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"

    return spell(digits.ljust(32, "0")), spell(digits.ljust(32, "f"))
