"""`/api/tags`: tags, how many calibrations carry each now, and archiving. The routes that
answer in calibrations (a calibration's tags, a tag's calibrations) are the calibrations app's."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorPagination
from config.api.permissions import signed_in_user

from ..models import Tag, TagQuerySet, normalize_tag_name
from ..services import tag_archive
from .serializers import TagArchiveResultSerializer, TagSerializer

TAG = OpenApiParameter(
    "tag", OpenApiTypes.STR, OpenApiParameter.PATH, description="A tag name, any case."
)
NOT_FOUND = OpenApiResponse(description="Tag not found.")


def tag_from_path(raw: str, tags: TagQuerySet | None = None) -> Tag:
    """The tag a URL names (any case, of `tags`, default all); 404 when there is none."""
    try:
        name = normalize_tag_name(raw)
    except DjangoValidationError:
        raise NotFound(f"Tag '{raw}' not found.") from None
    tag = (Tag.objects.all() if tags is None else tags).named(name).first()
    if tag is None:
        raise NotFound(f"Tag '{name}' not found.")
    return tag


class TagPagination(CursorPagination):
    """By name, case-insensitively (`tag_key`, as every list of tag names in the API)."""

    ordering = "name_key"


@extend_schema_view(
    list=extend_schema(summary="List tags by name, with how many calibrations carry each now")
)
class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Any]):
    """Tags: how many calibrations carry each now, who carried one when, and archiving."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    pagination_class = TagPagination
    filter_backends: list[Any] = []
    lookup_field = "name"
    lookup_url_kwarg = "tag"
    lookup_value_regex = "[^/]+"
    action_permissions = {"archive": ["tagging.change_tagassignment"]}

    def get_queryset(self) -> QuerySet[Tag]:
        return Tag.objects.with_active_count()

    def get_object(self) -> Tag:
        # Only the tag's own page shows how many calibrations carry it: counting them costs a
        # scan of its active periods (tens of thousands), which archiving does not need.
        tags = Tag.objects.with_active_count() if self.action == "retrieve" else None
        return tag_from_path(self.kwargs["tag"], tags)

    @extend_schema(
        summary="One tag", parameters=[TAG], responses={200: TagSerializer, 404: NOT_FOUND}
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Remove the tag from every calibration that carries it now",
        parameters=[TAG],
        request=None,
        responses={200: TagArchiveResultSerializer, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, tag: str) -> Response:
        the_tag = self.get_object()
        removed = tag_archive(tag=the_tag, user=signed_in_user(request))
        return Response({"tag": the_tag.name, "removed": removed})
