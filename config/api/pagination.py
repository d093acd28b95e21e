"""Cursor pagination for every list: stable under inserts, no COUNT(*) on big tables."""

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request


class CursorPagination(pagination.CursorPagination):
    """`{"next", "previous", "results"}`; `page_size` 1–1000 (larger is capped), default 50."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-pk"

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({"page_size": ["A positive whole number is required."]})
        return min(size, self.max_page_size)

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        # A unique last key keeps the cursor exact when many rows share a timestamp.
        ordering = tuple(super().get_ordering(request, queryset, view))
        tie_breaker = "-pk" if ordering[0].startswith("-") else "pk"
        if ordering[-1].lstrip("-") not in ("pk", "id"):
            ordering = (*ordering, tie_breaker)
        return ordering
