"""Calibrations in the operator console: corrections are logged, tags go through the services."""

from datetime import UTC
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from import_export.admin import ImportMixin
from import_export.formats.base_formats import CSV

from config.admin import (
    DateRangeListFilter,
    EstimatedCountPaginator,
    InputListFilter,
    confirm_action,
)
from config.api.timestamps import TimestampError, parse_timestamp
from config.users import acting_user
from tagging.imports import CalibrationImportResource
from tagging.models import Tag, TagAssignment, normalize_tag_name
from tagging.selectors import calibrations_carrying, snapshot_parts, tag_names_by_calibration
from tagging.services import TagNotActiveError, tag_remove, tags_add

from .api.exports import SNAPSHOT_FORMATS, calibrations_csv_response, snapshot_response
from .models import Calibration, CalibrationType, CalibrationVersion
from .services import RECORDED_FIELDS, calibration_correct, calibration_create


@admin.register(CalibrationType)
class CalibrationTypeAdmin(admin.ModelAdmin[CalibrationType]):
    list_display = ["name", "unit", "description"]
    search_fields = ["name", "description"]


class TagActionForm(ActionForm):
    """The changelist's action bar, with the tag name the tag actions need."""

    tag = forms.CharField(required=False, max_length=100, label="Tag")


class PreciseSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, with the time to the microsecond.

    Django drops the microseconds of a widget's initial value unless the widget supports
    them; a timestamp shown without them would come back changed from an untouched form.
    """

    supports_microseconds = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        time = self.widgets[1]
        assert isinstance(time, forms.TimeInput)
        time.format = "%H:%M:%S.%f"
        time.attrs["size"] = "15"


def recorded_changes(stored: dict[str, Any], cleaned: dict[str, Any]) -> dict[str, Any]:
    """The recorded fields whose submitted value differs from the stored record.

    Not `form.changed_data`: that compares with the form's initial values, which a widget may
    have rounded; the stored record is what a correction must not alter unasked.
    """
    changes = {}
    for name in RECORDED_FIELDS:
        if name not in cleaned:
            continue
        new, old = cleaned[name], stored[name]
        differs = new is not None and new.pk != old if name == "calibration_type" else new != old
        if differs:
            changes[name] = new
    return changes


class CalibrationForm(forms.ModelForm[Calibration]):
    """The calibration's fields, plus tags to add and tags to remove (through the services),
    and the reason a correction needs."""

    change_reason = forms.CharField(
        required=False,
        label="Reason for the correction",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=(
            "Required when you change the type, value, timestamp or username: it is kept with "
            "the new version of this record."
        ),
    )

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
        widgets = {"timestamp": PreciseSplitDateTime}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What is stored now, before the form copies its values onto the instance.
        self.stored = {
            "calibration_type": self.instance.calibration_type_id,
            "value": self.instance.value,
            "timestamp": self.instance.timestamp,
            "username": self.instance.username,
        }
        self.recorded_changes: dict[str, Any] = {}
        if "username" in self.fields:
            # Kept as typed: trimming a stored name would be a change nobody asked for.
            username = self.fields["username"]
            assert isinstance(username, forms.CharField)
            username.strip = False
        # The id has a default, so a new instance has a pk already: ask its state instead.
        self.is_correction = not self.instance._state.adding
        if not self.is_correction:
            del self.fields["change_reason"]
        if self.instance.pk:
            field = self.fields["remove_tags"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = Tag.objects.filter(
                assignments__in=TagAssignment.objects.active().filter(calibration=self.instance)
            )
        else:
            del self.fields["remove_tags"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.is_correction:
            self.recorded_changes = recorded_changes(self.stored, cleaned)
            reason = (cleaned.get("change_reason") or "").strip()
            if self.recorded_changes and not reason:
                labels = ", ".join(
                    str(self.fields[name].label or name) for name in self.recorded_changes
                )
                self.add_error(
                    "change_reason",
                    f"You changed {labels}: say why. A correction needs a reason, kept with "
                    "the record's new version.",
                )
            cleaned["change_reason"] = reason
        return cleaned

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


class SnapshotForm(forms.Form):
    """The admin's "snapshot as of…" download: the options of `GET /api/snapshot`."""

    timestamp = forms.CharField(
        required=False,
        label="As of",
        help_text="ISO 8601, e.g. 2025-04-01T10:00:00Z (no offset means UTC). Blank: now.",
        widget=forms.TextInput(attrs={"size": 32, "placeholder": "2025-04-01T10:00:00Z"}),
    )
    tag = forms.CharField(required=False, label="Carrying the tag", max_length=100)
    calibration_type = forms.ModelChoiceField(
        queryset=CalibrationType.objects.all(),
        required=False,
        to_field_name="name",
        empty_label="any type",
    )
    username = forms.CharField(required=False, max_length=150, label="Done by")
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("jsonl", "JSON Lines")], initial="csv")

    def clean_timestamp(self) -> Any:
        raw = (self.cleaned_data.get("timestamp") or "").strip()
        if not raw:
            return None
        try:
            return parse_timestamp(raw)
        except TimestampError as exc:
            raise ValidationError(str(exc)) from None

    def clean_tag(self) -> str | None:
        raw = self.cleaned_data.get("tag") or ""
        if not raw.strip():
            return None
        try:
            return normalize_tag_name(raw)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None


@admin.register(Calibration)
class CalibrationAdmin(ImportMixin, admin.ModelAdmin[Calibration]):
    form = CalibrationForm
    # CSV import (django-import-export): a preview that lists every bad row, then all or none.
    resource_classes = [CalibrationImportResource]
    import_formats = [CSV]
    import_export_change_list_template = "admin/calibrations/calibration/change_list.html"
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
    readonly_fields = ["id", "created_at", "created_by", "versions_table"]
    inlines = [TagHistoryInline]
    actions = ["add_tag", "remove_tag"]
    action_form = TagActionForm
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "id",
                    "calibration_type",
                    "value",
                    "timestamp",
                    "username",
                    "change_reason",
                ]
            },
        ),
        ("Tags", {"fields": ["add_tags", "remove_tags"]}),
        ("Record", {"fields": ["created_at", "created_by"]}),
        ("Versions (read-only)", {"fields": ["versions_table"]}),
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
        # h-audit (issue 13): every calibration has versions (PROTECT), so none is deleted;
        # say why in words rather than listing "calibration version" rows.
        if protected or perms_needed:
            perms_needed = set()
            protected = [
                *(line for line in protected if isinstance(line, str)),
                *(
                    f"Calibration {pk}: a lab record, kept with its versions (the audit "
                    "trail). Correct it on its page, with a reason."
                    for pk in ids
                    if pk not in with_history
                ),
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
            self.save_correction(request, obj, form)
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

    # --- h-audit (issue 13): corrections with a reason, the versions of the record -----------

    def save_correction(self, request: HttpRequest, obj: Calibration, form: Any) -> None:
        """Apply only the recorded fields the person changed (compared with the stored record),
        with their reason; an unchanged save writes nothing and adds no version."""
        changes = form.recorded_changes
        if not changes:
            # The form copied its values onto `obj`; keep the response's view of it exact.
            obj.refresh_from_db(fields=list(RECORDED_FIELDS))
            return
        calibration_correct(
            calibration=obj,
            user=acting_user(request),
            reason=form.cleaned_data["change_reason"],
            **changes,
        )

    @admin.display(description="Versions")
    def versions_table(self, calibration: Calibration) -> str:
        """Every version, oldest first, with what changed from the one before, who, when, why."""
        if calibration.pk is None:
            return "-"
        rows = []
        previous: CalibrationVersion | None = None
        for version in CalibrationVersion.objects.filter(calibration=calibration).for_history():
            rows.append(
                (
                    version.version,
                    version.change,
                    _utc_us(version.changed_at),
                    version.changed_by or "-",
                    version_diff(previous, version),
                    version.reason or "-",
                )
            )
            previous = version
        body = format_html_join(
            "",
            '<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="version-diff">{}</td>'
            "<td>{}</td></tr>",
            rows,
        )
        return format_html(
            '<table class="calibration-versions"><thead><tr><th>Version</th><th>Change</th>'
            "<th>When (UTC)</th><th>By</th><th>What changed</th><th>Why</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )

    # Export, snapshot and import: URLs beside the changelist.

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "snapshot/",
                self.admin_site.admin_view(self.snapshot_view),
                name="{}_{}_snapshot".format(*info),
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The calibrations of the changelist as filtered (its query string), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).values_list(
            "id", "calibration_type__name", "value", "timestamp", "username"
        )
        now = timezone.now()
        return calibrations_csv_response(
            rows,
            tags_of=lambda ids: tag_names_by_calibration(ids, as_of=now),
            filename=f"calibrations-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv",
        )

    def snapshot_view(self, request: HttpRequest) -> HttpResponseBase:
        """A form for "the records as of T"; submitted, the same file as `GET /api/snapshot`."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SnapshotForm(
            request.GET if "download" in request.GET else None,
            initial={
                "tag": request.GET.get("tag", ""),
                "timestamp": request.GET.get("timestamp", ""),
            },
        )
        if form.is_bound and form.is_valid():
            options = form.cleaned_data
            as_of = options["timestamp"] or timezone.now()
            ctype = options["calibration_type"]
            parts = snapshot_parts(
                as_of=as_of,
                tag=options["tag"],
                calibration_type=ctype.name if ctype else None,
                username=options["username"] or None,
            )
            return snapshot_response(parts, as_of=as_of, fmt=options["format"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Snapshot: the records as of an instant",
            "opts": self.opts,
            "form": form,
            "formats": SNAPSHOT_FORMATS,
        }
        return TemplateResponse(request, "admin/calibrations/calibration/snapshot.html", context)

    def has_import_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("calibrations.add_calibration"))

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        # The import rolled back (a row went bad between the preview and the confirmation):
        # nothing was stored, and the message must not say otherwise.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: a row was refused. Import the file again to see which.",
                messages.ERROR,
            )
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        response: HttpResponse = super().process_result(result, request)
        return response

    # --- end h-audit --------------------------------------------------------------------

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


def version_diff(previous: CalibrationVersion | None, version: CalibrationVersion) -> str:
    """What a version changed from the one before ("value: 1.5 → 1.25"); for version 1, what
    it recorded."""

    def shown(v: CalibrationVersion, name: str) -> str:
        if name == "calibration_type":
            return v.calibration_type.name
        if name == "timestamp":
            return _utc_us(v.timestamp)
        return str(getattr(v, name))

    if previous is None:
        return "; ".join(f"{name}: {shown(version, name)}" for name in RECORDED_FIELDS)
    return "; ".join(
        f"{name}: {shown(previous, name)} → {shown(version, name)}"
        for name in RECORDED_FIELDS
        if shown(previous, name) != shown(version, name)
    )


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
