"""Admin pieces shared by the apps: pages that show more than a form, and pagination that stays
fast on tables of millions of rows."""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

_M = TypeVar("_M", bound=Model)

# Above this many rows an exact count is not worth a sequential scan on every page load.
COUNT_LIMIT = 10_000


class EstimatedCountPaginator(Paginator):
    """A paginator that never COUNT(*)s a big table.

    Unfiltered on PostgreSQL it reads the planner's row estimate; filtered, it counts at most
    `COUNT_LIMIT + 1` rows (`SELECT COUNT(*) FROM (… LIMIT n)`), so the page links stop there.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        query = queryset.query
        connection = connections[queryset.db]
        if connection.vendor == "postgresql" and not query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            estimate = int(row[0]) if row else -1
            if estimate > COUNT_LIMIT:
                return estimate
        return queryset.order_by()[: COUNT_LIMIT + 1].count()


class PageContextAdmin(admin.ModelAdmin[_M]):
    """A ModelAdmin whose change page shows more than the form (a tag's calibrations, a room's
    chart): `page_context` gives its template what that takes."""

    def page_context(self, request: HttpRequest, obj: _M) -> dict[str, Any]:
        return {}

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        obj = self.get_object(request, object_id)
        if obj is not None:
            context.update(self.page_context(request, obj))
        return super().change_view(request, object_id, form_url, extra_context=context)


# ---------------------------------------------------------------------------------------------
# Actions that change many rows ask first, as delete does.

# How many of the rows an action will change its confirmation page names.
CONFIRM_LIST_LIMIT = 20


def confirm_action(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    *,
    title: str,
    question: str,
    items: list[str],
    total: int | None = None,
    fields: dict[str, str] | None = None,
    ask: tuple[str, str] | None = None,
) -> TemplateResponse | None:
    """None once the person has confirmed (the action then runs); else the page asking.

    The page re-posts the selection (`_selected_action`, or `select_across` with the list's
    own query string kept in the URL), the action and its `fields` (e.g. the tag), plus
    `confirmed=yes`. `items` name the rows (the first `CONFIRM_LIST_LIMIT` are listed) out of
    `total` (default: as many as `items`). `ask` = (name, label) adds a required text the
    person writes (e.g. an acknowledgement's comment), posted as `name`.
    """
    answer = request.POST.get(ask[0], "").strip() if ask else ""
    if request.POST.get("confirmed") == "yes" and (ask is None or answer):
        return None
    missing = request.POST.get("confirmed") == "yes" and ask is not None and not answer
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": opts,
        "title": title,
        "subtitle": None,
        "question": question,
        "items": items[:CONFIRM_LIST_LIMIT],
        "more": max(
            0, (len(items) if total is None else total) - min(len(items), CONFIRM_LIST_LIMIT)
        ),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "action": request.POST.get("action", ""),
        "fields": sorted((fields or {}).items()),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "ask": ask,
        "ask_missing": missing,
    }
    return TemplateResponse(request, "admin/console/action_confirmation.html", context)


# ---------------------------------------------------------------------------------------------
# List filters typed rather than picked (a tag among thousands, a date range).


def _keep_and_clear(changelist: Any, own: list[str]) -> tuple[list[tuple[str, str]], str]:
    """The changelist's other query parameters (hidden inputs of a filter's form), and the
    query string of the list without this filter."""
    others = changelist.get_query_string(remove=[*own, "p"])
    return parse_qsl(others.lstrip("?"), keep_blank_values=True), others


class InputListFilter(admin.SimpleListFilter):
    """A filter with one text box (`parameter_name`) instead of a list of links."""

    template = "admin/console/input_filter.html"
    placeholder = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Never empty, so the filter shows; the choices are typed, not listed.
        return [("", "")]

    # The typed filters' template reads their own keys, not Django's link choices.
    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        keep, clear = _keep_and_clear(changelist, [self.parameter_name or ""])
        yield {
            "keep": keep,
            "clear": clear if self.value() else "",
            "fields": [
                {
                    "id": f"filter-{self.parameter_name}",
                    "name": self.parameter_name,
                    "label": "",
                    "type": "text",
                    "value": self.value() or "",
                    "placeholder": self.placeholder,
                }
            ],
        }


class DateRangeListFilter(admin.FieldListFilter):
    """From and to dates (inclusive, UTC days) on a datetime field, as two date inputs.

    `?timestamp__range_from=2025-01-01&timestamp__range_to=2025-03-31` keeps the rows from
    2025-01-01T00:00Z up to, not including, 2025-04-01T00:00Z: a plain range on the field's
    index.
    """

    template = "admin/console/input_filter.html"

    def __init__(
        self,
        field: Any,
        request: HttpRequest,
        params: Any,
        model: Any,
        model_admin: Any,
        field_path: str,
    ) -> None:
        self.param_from = f"{field_path}__range_from"
        self.param_to = f"{field_path}__range_to"
        super().__init__(field, request, params, model, model_admin, field_path)
        self.title = f"{self.title} (UTC dates)"
        self.error = ""
        self.start = self._day(self.param_from)
        self.end = self._day(self.param_to)

    def _day(self, param: str) -> date | None:
        raw = self.used_parameters.get(param)
        text = str(raw[-1] if isinstance(raw, list) else raw or "").strip()
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.error = f"'{text}' is not a date (YYYY-MM-DD)."
            return None

    def expected_parameters(self) -> list[str | None]:
        return [self.param_from, self.param_to]

    def has_output(self) -> bool:
        return True

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.start is not None:
            start = datetime.combine(self.start, time.min, tzinfo=UTC)
            queryset = queryset.filter(**{f"{self.field_path}__gte": start})
        if self.end is not None:
            end = datetime.combine(self.end, time.min, tzinfo=UTC) + timedelta(days=1)
            queryset = queryset.filter(**{f"{self.field_path}__lt": end})
        return queryset

    def choices(self, changelist: Any) -> Iterator[dict[str, Any]]:  # type: ignore[override]
        own = [self.param_from, self.param_to]
        keep, clear = _keep_and_clear(changelist, own)
        fields = []
        for param, label, day in (
            (self.param_from, "From", self.start),
            (self.param_to, "To", self.end),
        ):
            fields.append(
                {
                    "id": f"filter-{param}",
                    "name": param,
                    "label": label,
                    "type": "date",
                    "value": day.isoformat() if day else "",
                }
            )
        yield {
            "keep": keep,
            "clear": clear if (self.start or self.end or self.error) else "",
            "fields": fields,
            "error": self.error,
        }


# ---------------------------------------------------------------------------------------------
# The console is the lab's (DESIGN §5): its own title and header, "View site" to the API root.
admin.site.site_header = "Calibration & Measurement Service"
admin.site.site_title = "Calibration & Measurement Service"
admin.site.index_title = "Operator console"
admin.site.site_url = "/api/"
# The app list beside every page took 300 of 1280 pixels from the lists; Home and the
# breadcrumbs lead everywhere it did.
admin.site.enable_nav_sidebar = False


class SuperuserOnlyAdmin(admin.ModelAdmin[Any]):
    """Login lockouts and API tokens are the operator's business, not every staff member's:
    only superusers see these pages, whatever model permissions a staff account holds."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def restrict_to_superusers(*models: type[Model]) -> None:
    """Re-register each model's admin (as its app registered it) for superusers only."""
    for model in models:
        if not admin.site.is_registered(model):
            continue
        registered = type(admin.site.get_model_admin(model))
        admin.site.unregister(model)
        restricted = type(
            f"SuperuserOnly{registered.__name__}", (SuperuserOnlyAdmin, registered), {}
        )
        admin.site.register(model, restricted)


def uuid_prefix_range(term: str) -> tuple[str, str] | None:
    """The lowest and highest UUIDs starting with the hex digits of `term` (dashes ignored),
    or None when `term` is not 1–32 hex digits. A range keeps the primary key's index."""
    digits = term.replace("-", "").lower()
    if not 1 <= len(digits) <= 32 or any(ch not in "0123456789abcdef" for ch in digits):
        return None

    def spell(hex32: str) -> str:
        return f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"

    return spell(digits.ljust(32, "0")), spell(digits.ljust(32, "f"))
