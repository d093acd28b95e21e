"""The tag routes that answer in calibrations: a calibration's tags (add, remove, as of an
instant, the history) under `/api/calibrations/{id}/`, and `/api/tags/{tag}/calibrations`."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
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
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorPagination
from config.api.permissions import signed_in_user
from tagging.api.serializers import TagAddSerializer, TagAssignmentSerializer
from tagging.api.views import TAG, tag_from_path
from tagging.models import TagAssignment
from tagging.selectors import tag_names_by_calibration
from tagging.services import TagNotActiveError, tag_remove, tags_add

from ..filtersets import TaggedCalibrationFilterSet
from ..models import Calibration
from ..selectors import calibrations_tagged
from .serializers import AsOfQuerySerializer, CalibrationSerializer

CALIBRATION_ID = OpenApiParameter(
    "calibration_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The calibration's id."
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
        # The browsable API draws the POST form from this.
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


class TaggedCalibrationPagination(CursorPagination):
    """Newest calibration first, through the tag's index (see `calibrations_tagged`).

    `tagged_timestamp` equals the calibration's `timestamp`, so pages and cursors are the
    same as ordering by `-timestamp`.
    """

    ordering = "-tagged_timestamp"


class TaggedCalibrationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Calibration]):
    """`/api/tags/{tag}/calibrations`: the calibrations that carried a tag at an instant."""

    queryset = Calibration.objects.all()
    serializer_class = CalibrationSerializer
    filterset_class = TaggedCalibrationFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = TaggedCalibrationPagination

    @extend_schema(
        summary="Calibrations that carried the tag at an instant, newest first",
        parameters=[TAG, AsOfQuerySerializer],
        responses={200: CalibrationSerializer(many=True), 400: BAD_INPUT, 404: NOT_FOUND},
    )
    def list(self, request: Request, tag: str) -> Response:
        instant = as_of_from(request)
        the_tag = tag_from_path(tag)
        queryset = self.filter_queryset(
            calibrations_tagged(the_tag, as_of=instant, calibrations=Calibration.objects.for_api())
        )
        page = self.paginate_queryset(queryset)
        context = {**self.get_serializer_context(), "as_of": instant}
        serializer = CalibrationSerializer(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)
