"""Admin pieces shared by the apps: pages that show more than a form, and pagination that stays
fast on tables of millions of rows."""

from functools import cached_property
from typing import Any, TypeVar

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

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
