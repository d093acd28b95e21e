"""Cursor pagination for every list: stable under inserts, no COUNT(*) on big tables."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request

from .query import blank_parameters


class CursorPagination(pagination.CursorPagination):
    """`{"next", "previous", "results"}`; `page_size` 1–1000 (larger is capped), default 50."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-pk"

    def get_page_size(self, request: Request) -> int:
        blank = blank_parameters(request.query_params, [self.page_size_query_param])
        if blank:
            raise ValidationError(blank)
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError({"page_size": ["A positive whole number is required."]})
        return min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (
                    f"Results per page, default {self.page_size}; above {self.max_page_size} "
                    f"is capped at {self.max_page_size}."
                )
        return parameters

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any] | None:
        self._model = queryset.model
        self._annotations = queryset.query.annotations
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        # DRF answers 404 for a cursor it cannot decode, and passes the position it holds to
        # the database unchecked (a crafted one was a 500): both are bad input, a 400. An
        # empty one decodes to the first page: a 400 too (DESIGN §4.1).
        blank = blank_parameters(request.query_params, [self.cursor_query_param])
        if blank:
            raise ValidationError(blank)
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or self._position_is_valid(cursor.position)
        if not valid:
            raise ValidationError(
                {self.cursor_query_param: ["Invalid cursor: use the `next`/`previous` links."]}
            )
        return cursor

    def _position_is_valid(self, position: object) -> bool:
        if position is None:
            return True
        position = str(position)
        if "\x00" in position:  # PostgreSQL refuses NUL in text
            return False
        name = self.ordering[0].lstrip("-")
        meta = self._model._meta
        if name in self._annotations:  # e.g. `tagged_timestamp` of a tag's calibrations
            field = self._annotations[name].output_field
        else:
            field = meta.pk if name == "pk" else meta.get_field(name)
        try:
            field.to_python(position)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            return False
        return True

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        # A unique last key keeps the cursor exact when many rows share a timestamp.
        ordering = tuple(super().get_ordering(request, queryset, view))
        tie_breaker = "-pk" if ordering[0].startswith("-") else "pk"
        if ordering[-1].lstrip("-") not in ("pk", "id"):
            ordering = (*ordering, tie_breaker)
        return ordering
