"""The calibrations list and a calibration's page in the console: found the way staff search,
corrected only with a reason (each correction a new version), tags through the services."""

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from config.admin import (
    DateRangeListFilter,
    EstimatedCountPaginator,
    InputListFilter,
    uuid_prefix_range,
)
from config.batches import batched
from config.users import acting_user
from tagging.models import Tag, TagAssignment, normalize_tag_name
from tagging.selectors import tag_names_by_calibration

from ..models import Calibration, CalibrationType
from ..selectors import calibrations_carrying
from ..services import RECORDED_FIELDS, calibration_correct, calibration_create
from .downloads import CalibrationFilesAdmin
from .forms import CalibrationForm, TagActionForm
from .tags import CalibrationTagActions
from .versions import CalibrationVersionsAdmin, utc_us

# How many of the selected calibrations the delete page names, one line each.
DELETE_PAGE_LIMIT = 100

LIMITS_NOTE = (
    "A calibration is in tolerance when its value lies within these limits (bounds included); "
    "leave both empty not to assess this type. Each calibration keeps the judgement made when "
    "it was written: changing the limits here does not rewrite past calibrations (only a "
    "correction of a calibration's value or type judges it again, by the limits of then)."
)


@admin.register(CalibrationType)
class CalibrationTypeAdmin(admin.ModelAdmin[CalibrationType]):
    list_display = ["name", "unit", "lower_limit", "upper_limit", "description"]
    search_fields = ["name", "description"]
    fieldsets = [
        (None, {"fields": ["name", "unit", "description"]}),
        ("Tolerance", {"fields": [("lower_limit", "upper_limit")], "description": LIMITS_NOTE}),
    ]


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
        return utc_us(assignment.added_at)

    @admin.display(description="Removed at (UTC)")
    def removed_at_us(self, assignment: TagAssignment) -> str:
        return utc_us(assignment.removed_at)


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


class InstrumentFilter(InputListFilter):
    """Calibrations of the instrument whose id is typed (exact; an instrument's page links here)."""

    title = "instrument"
    parameter_name = "instrument"
    placeholder = "instrument id"

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        instrument_id = (self.value() or "").strip()
        return queryset.filter(instrument_id=instrument_id) if instrument_id else queryset


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
class CalibrationAdmin(CalibrationTagActions, CalibrationVersionsAdmin, CalibrationFilesAdmin):
    form = CalibrationForm
    # Fits 1280 × 800: the id's first 8 characters link to the record.
    list_display = [
        "short_id",
        "calibration_type",
        "value",
        "timestamp",
        "username",
        "instrument_id",
        "in_tolerance",
        "tags_now",
    ]
    list_display_links = ["short_id"]
    # Date filters rather than a date hierarchy: the hierarchy's list of years is a
    # DISTINCT over every row (~200 ms on a million), the filters' choices cost nothing.
    list_filter = [
        "calibration_type",
        CarryingTagFilter,
        InstrumentFilter,
        "in_tolerance",
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
    autocomplete_fields = ["calibration_type", "instrument"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["id", "in_tolerance", "created_at", "created_by", "versions_table"]
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
                    "instrument",
                    "in_tolerance",
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
                (
                    None,
                    {
                        "fields": [
                            "calibration_type",
                            "value",
                            "timestamp",
                            "username",
                            "instrument",
                        ]
                    },
                ),
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
        # Each way of matching walks an index on a table of millions of rows: a tag's name
        # (its unique case-insensitive key) → its active periods; a username prefix → the
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
        # No calibration is ever deleted: each is a lab record kept with its versions
        # (PROTECT) and its tag history (DESIGN §3). The page says why, in words rather than
        # Django's "your account lacks permission to delete tag assignments" or a list of
        # "calibration version" rows, and without Django's collector, whose queries carry every
        # selected id in one statement: past 65,535 of them (all calibrations selected)
        # PostgreSQL refused it and the page was a 500.
        ids = [obj.pk for obj in objs]
        with_history = {
            pk
            for batch in batched(ids)
            for pk in TagAssignment.objects.filter(calibration_id__in=batch)
            .values_list("calibration_id", flat=True)
            .distinct()
        }
        protected: list[str] = [
            f"Calibration {pk}: it has tag history, which is kept for the record. "
            "Remove its tags instead; the history stays."
            if pk in with_history
            else f"Calibration {pk}: a lab record, kept with its versions (the audit "
            "trail). Correct it on its page, with a reason."
            for pk in ids[:DELETE_PAGE_LIMIT]
        ]
        if len(ids) > DELETE_PAGE_LIMIT:
            protected.append(
                f"… and {len(ids) - DELETE_PAGE_LIMIT:,} more calibrations, each kept for the "
                "same reasons: a calibration is never deleted."
            )
        return [], {}, set(), protected

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
            instrument_id=obj.instrument_id,
        )
        obj.pk, obj.created_at, obj.created_by = created.pk, created.created_at, created.created_by
        obj.in_tolerance = created.in_tolerance
        obj._state.adding = False

    def save_correction(self, request: HttpRequest, obj: Calibration, form: Any) -> None:
        """Apply only the recorded fields the person changed (compared with the stored record),
        with their reason; an unchanged save writes nothing and adds no version."""
        changes = form.recorded_changes
        self.warn_reason_dropped(request, form)
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


def _could_be_tag(term: str) -> bool:
    """Whether `term` is a valid tag name (else it cannot name one: no query)."""
    try:
        normalize_tag_name(term)
    except ValidationError:
        return False
    return True
