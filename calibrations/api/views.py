"""`/api/calibrations`: create, list, read. No update or delete: calibrations are lab records."""

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.filters import StrictOrderingFilter
from config.api.pagination import CursorPagination
from config.api.permissions import signed_in_user
from tagging.services import calibration_create_tagged

from ..filtersets import CalibrationFilterSet
from ..models import Calibration
from .serializers import CalibrationCreateSerializer, CalibrationSerializer


class CalibrationPagination(CursorPagination):
    """Newest calibration first."""

    ordering = "-timestamp"


@extend_schema_view(
    list=extend_schema(summary="List calibrations, newest first"),
    retrieve=extend_schema(
        summary="One calibration",
        responses={200: CalibrationSerializer, 404: OpenApiResponse(description="Unknown id.")},
    ),
)
class CalibrationViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[Calibration],
):
    """Calibrations of the lab's devices, with the tags they carry now."""

    queryset = Calibration.objects.all()
    serializer_class = CalibrationSerializer
    filterset_class = CalibrationFilterSet
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["timestamp"]
    ordering = ["-timestamp"]
    pagination_class = CalibrationPagination
    lookup_field = "pk"
    lookup_url_kwarg = "calibration_id"

    def get_queryset(self) -> QuerySet[Calibration]:
        return Calibration.objects.for_api()

    def get_serializer_class(self) -> Any:
        # The browsable API draws the POST form from this (issue 12).
        return CalibrationCreateSerializer if self.action == "create" else CalibrationSerializer

    @extend_schema(
        summary="Record a calibration",
        request=CalibrationCreateSerializer,
        responses={201: CalibrationSerializer, 400: OpenApiResponse(description="Invalid input.")},
        examples=[
            OpenApiExample(
                "A gain calibration with a tag",
                value={
                    "calibration_type": "gain",
                    "value": 1.5,
                    "timestamp": "2025-04-01T10:00:00Z",
                    "username": "alice",
                    "tags": ["baseline-2025"],
                },
                request_only=True,
            ),
            OpenApiExample(
                "Only what is required",
                value={"calibration_type": "offset", "value": -0.25},
                request_only=True,
            ),
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = CalibrationCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        created = calibration_create_tagged(
            **serializer.validated_data, created_by=signed_in_user(request)
        )
        calibration = created.calibration
        # The service returns it with its type and tags: no need to read it back.
        context = {**self.get_serializer_context(), "tag_names": created.tag_names}
        body = CalibrationSerializer(calibration, context=context).data
        location = request.build_absolute_uri(
            reverse(
                "calibrations-api:calibration-detail", kwargs={"calibration_id": calibration.pk}
            )
        )
        return Response(body, status=status.HTTP_201_CREATED, headers={"Location": location})
