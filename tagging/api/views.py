"""`/api/tags` and the tag routes under `/api/calibrations/{id}/`."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.plumbing import build_array_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from calibrations.api.serializers import CalibrationSerializer
from calibrations.filtersets import TaggedCalibrationFilterSet
from calibrations.models import Calibration
from config.api.pagination import CursorPagination
from config.api.permissions import signed_in_user

from ..models import Tag, TagAssignment, normalize_tag_name
from ..selectors import calibrations_tagged, tag_names_by_calibration
from ..services import TagNotActiveError, tag_archive, tag_remove, tags_add
from .serializers import (
    AsOfQuerySerializer,
    TagAddSerializer,
    TagArchiveResultSerializer,
    TagAssignmentSerializer,
    TagSerializer,
)

CALIBRATION_ID = OpenApiParameter(
    "calibration_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The calibration's id."
)
TAG = OpenApiParameter(
    "tag", OpenApiTypes.STR, OpenApiParameter.PATH, description="A tag name, any case."
)
NOT_FOUND = OpenApiResponse(
    description="Unknown calibration, or tag not found (the body says which)."
)
TAG_NAMES = build_array_type({"type": "string"})
BAD_INPUT = OpenApiResponse(description="Invalid input; the body names the field.")
# `{"tag": …}` answers one assignment, `{"tags": […]}` the list of them.
TAG_ADD_RESULT = PolymorphicProxySerializer(
    component_name="TagAddResult",
    serializers=[TagAssignmentSerializer, TagAssignmentSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


def as_of_from(request: Request) -> Any:
    """The `timestamp` query parameter as an aware datetime (default now); 400 when malformed."""
    query = AsOfQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data.get("timestamp") or timezone.now()


class CalibrationTagViewSet(viewsets.GenericViewSet[Any]):
    """A calibration's tags: add, remove, as of an instant, and the full history."""

    queryset = Calibration.objects.all()
    serializer_class = TagAssignmentSerializer
    pagination_class = None
    filter_backends: list[Any] = []
    lookup_url_kwarg = "calibration_id"
    action_permissions = {
        "add": ["tagging.add_tagassignment"],
        "remove": ["tagging.change_tagassignment"],
    }

    def get_serializer_class(self) -> Any:
        # The browsable API draws the POST form from this (issue 12).
        return TagAddSerializer if self.action == "add" else TagAssignmentSerializer

    def get_calibration(self) -> Calibration:
        raw = self.kwargs["calibration_id"]
        try:
            return Calibration.objects.get(pk=raw)
        except (Calibration.DoesNotExist, DjangoValidationError):  # a malformed UUID too
            raise NotFound(f"Calibration {raw} not found.") from None

    @extend_schema(
        summary="Names of the tags a calibration carried at an instant",
        parameters=[CALIBRATION_ID, AsOfQuerySerializer],
        responses={
            200: TAG_NAMES,
            400: BAD_INPUT,
            404: NOT_FOUND,
        },
    )
    def as_of(self, request: Request, calibration_id: str) -> Response:
        instant = as_of_from(request)
        calibration = self.get_calibration()
        return Response(tag_names_by_calibration([calibration.pk], as_of=instant)[calibration.pk])

    @extend_schema(
        summary="Add one or several tags to a calibration",
        parameters=[CALIBRATION_ID],
        request=TagAddSerializer,
        examples=[
            OpenApiExample("One tag", value={"tag": "current-state"}, request_only=True),
            OpenApiExample(
                "Several tags", value={"tags": ["baseline-2025", "reviewed"]}, request_only=True
            ),
        ],
        responses={
            201: OpenApiResponse(
                TAG_ADD_RESULT, description="Something was added: the assignment, or the list."
            ),
            200: OpenApiResponse(
                TAG_ADD_RESULT, description="Every tag was already active: the same shapes."
            ),
            400: BAD_INPUT,
            404: NOT_FOUND,
        },
    )
    def add(self, request: Request, calibration_id: str) -> Response:
        calibration = self.get_calibration()
        body = TagAddSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        single = "tag" in body.validated_data
        names = [body.validated_data["tag"]] if single else body.validated_data["tags"]
        results = tags_add(calibration=calibration, names=names, user=signed_in_user(request))
        created = any(result.created for result in results)
        data = TagAssignmentSerializer([result.assignment for result in results], many=True).data
        return Response(
            data[0] if single else data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Remove a tag from a calibration (its history stays)",
        parameters=[CALIBRATION_ID, TAG],
        request=None,
        responses={200: TagAssignmentSerializer, 404: NOT_FOUND},
    )
    def remove(self, request: Request, calibration_id: str, tag: str) -> Response:
        calibration = self.get_calibration()
        try:
            assignment = tag_remove(calibration=calibration, name=tag, user=signed_in_user(request))
        except TagNotActiveError as exc:
            raise NotFound(str(exc)) from None
        return Response(TagAssignmentSerializer(assignment).data)

    @extend_schema(
        summary="Every period a calibration carried a tag, oldest first",
        parameters=[CALIBRATION_ID],
        responses={200: TagAssignmentSerializer(many=True), 404: NOT_FOUND},
    )
    def history(self, request: Request, calibration_id: str) -> Response:
        calibration = self.get_calibration()
        assignments = (
            TagAssignment.objects.filter(calibration=calibration)
            .select_related("tag", "added_by", "removed_by")
            .order_by("added_at", "id")
        )
        return Response(TagAssignmentSerializer(assignments, many=True).data)


class TagPagination(CursorPagination):
    ordering = "name"


class TaggedCalibrationPagination(CursorPagination):
    """Newest calibration first, through the tag's index (see `CalibrationQuerySet.tagged`).

    `tagged_timestamp` equals the calibration's `timestamp`, so pages and cursors are the
    same as ordering by `-timestamp`.
    """

    ordering = "-tagged_timestamp"


@extend_schema_view(
    list=extend_schema(summary="List tags by name, with how many calibrations carry each now")
)
class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Any]):
    """Tags: how many calibrations carry each now, who carried one when, and archiving."""

    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    pagination_class = TagPagination
    filter_backends: list[Any] = []
    filterset_class: Any = None  # set by the `calibrations` action
    lookup_field = "name"
    lookup_url_kwarg = "tag"
    lookup_value_regex = "[^/]+"
    action_permissions = {"archive": ["tagging.change_tagassignment"]}

    def get_queryset(self) -> QuerySet[Any]:
        if self.action == "calibrations":
            # What the `calibrations` action lists (its filters and schema are about these).
            return super().get_queryset()
        return Tag.objects.with_active_count()

    def get_object(self) -> Tag:
        raw = self.kwargs["tag"]
        try:
            name = normalize_tag_name(raw)
        except DjangoValidationError:
            raise NotFound(f"Tag '{raw}' not found.") from None
        # Only the tag's own page shows how many calibrations carry it: counting them costs a
        # scan of its active periods (tens of thousands), which the other actions do not need.
        tags = Tag.objects.with_active_count() if self.action == "retrieve" else Tag.objects.all()
        tag = tags.named(name).first()
        if tag is None:
            raise NotFound(f"Tag '{name}' not found.")
        return tag

    @extend_schema(
        summary="One tag", parameters=[TAG], responses={200: TagSerializer, 404: NOT_FOUND}
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Calibrations that carried the tag at an instant, newest first",
        parameters=[TAG, AsOfQuerySerializer],
        responses={200: CalibrationSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["get"],
        queryset=Calibration.objects.all(),
        serializer_class=CalibrationSerializer,
        filterset_class=TaggedCalibrationFilterSet,
        filter_backends=[DjangoFilterBackend],
        pagination_class=TaggedCalibrationPagination,
    )
    def calibrations(self, request: Request, tag: str) -> Response:
        instant = as_of_from(request)
        the_tag = self.get_object()
        queryset = self.filter_queryset(
            calibrations_tagged(the_tag, as_of=instant, calibrations=Calibration.objects.for_api())
        )
        page = self.paginate_queryset(queryset)
        context = {**self.get_serializer_context(), "as_of": instant}
        serializer = CalibrationSerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)

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
