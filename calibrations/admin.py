"""Calibrations in the operator console: corrections are logged, tags go through the services."""

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html_join

from config.admin import EstimatedCountPaginator
from config.users import acting_user
from tagging.models import Tag, TagAssignment, normalize_tag_name
from tagging.selectors import tag_names_by_calibration
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
    fields = ["tag", "added_at", "added_by", "removed_at", "removed_by"]
    readonly_fields = ["tag", "added_at", "added_by", "removed_at", "removed_by"]
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
    list_display = ["id", "calibration_type", "value", "timestamp", "username", "tags_now"]
    # A date filter rather than a date hierarchy: the hierarchy's list of years is a
    # DISTINCT over every row (~200 ms on a million), the filter's choices cost nothing.
    list_filter = ["calibration_type", ("timestamp", admin.DateFieldListFilter)]
    list_select_related = ["calibration_type"]
    search_fields = ["username"]
    search_help_text = "An exact username, or a calibration id."
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

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Calibration], search_term: str
    ) -> tuple[QuerySet[Calibration], bool]:
        # Exact matches only, so both lookups use an index on a table of millions of rows.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(username=term), False

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
    def remove_tag(self, request: HttpRequest, queryset: QuerySet[Calibration]) -> None:
        name = self._action_tag(request)
        if name is None:
            return
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
