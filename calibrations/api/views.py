"""`/api/calibrations`: create, list, read, history; `/api/snapshot`. No update or delete:
calibrations are lab records."""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.filters import StrictOrderingFilter
from config.api.pagination import CursorPagination
from config.api.permissions import signed_in_user

from ..filtersets import CalibrationFilterSet
from ..models import Calibration, CalibrationVersion
from ..services import calibration_create_tagged
from ..snapshot import snapshot_parts, snapshot_response
from .serializers import (
    CalibrationCreateSerializer,
    CalibrationSerializer,
    CalibrationVersionSerializer,
    SnapshotQuerySerializer,
)

CALIBRATION_ID = OpenApiParameter(
    "calibration_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The calibration's id."
)


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

    def filter_queryset(self, queryset: QuerySet[Calibration, Any]) -> QuerySet[Calibration, Any]:
        # Filters and ordering are the list's: one calibration is found by its id alone
        # (DRF would otherwise build the list's filter set for every read of one).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_serializer_class(self) -> Any:
        # The browsable API draws the POST form from this.
        return CalibrationCreateSerializer if self.action == "create" else CalibrationSerializer

    @extend_schema(
        summary="Record a calibration",
        request=CalibrationCreateSerializer,
        responses={
            201: CalibrationSerializer,
            400: OpenApiResponse(
                description="Invalid input, or an instrument not registered or retired."
            ),
        },
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
        try:
            created = calibration_create_tagged(
                **serializer.validated_data, created_by=signed_in_user(request)
            )
        except DjangoValidationError as exc:  # an instrument not registered or retired
            raise ValidationError(exc.message_dict) from None
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

    @extend_schema(
        summary="Every version of a calibration, oldest first",
        parameters=[CALIBRATION_ID],
        responses={
            200: CalibrationVersionSerializer(many=True),
            404: OpenApiResponse(description="Unknown calibration."),
        },
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, calibration_id: str) -> Response:
        try:
            calibration = Calibration.objects.only("pk").get(pk=calibration_id)
        except (Calibration.DoesNotExist, DjangoValidationError):  # a malformed UUID too
            raise NotFound(f"Calibration {calibration_id} not found.") from None
        versions = CalibrationVersion.objects.filter(calibration=calibration).for_history()
        return Response(CalibrationVersionSerializer(versions, many=True).data)


class JSONErrorsOnly(BaseContentNegotiation):
    """The snapshot's negotiation: its file type comes from `?format=` alone, so neither the
    `Accept` header nor DRF's `?format=` override take part; its errors are always JSON."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), JSONRenderer.media_type


class SnapshotViewSet(viewsets.ViewSet):
    """`GET /api/snapshot`: every calibration as the records stood at an instant (§4.4a).

    A viewset with one action (`download`), so another method is a 405 like on every route."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONErrorsOnly

    @extend_schema(
        summary="What the records said at an instant: a file of calibrations as of T",
        description=(
            "Every calibration created at or before `timestamp`, with its fields as they stood "
            "then (its latest version at or before T) and the tags it carried then. Streamed; "
            "ordered by the timestamp as of T, then id. `format` alone picks the file type "
            "(the `Accept` header is ignored). Headers: `Content-Disposition` (attachment, "
            "`snapshot-<T>.<ext>`) and `X-Snapshot-Timestamp` (the instant used)."
        ),
        parameters=[SnapshotQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR, description="One calibration representation per line."
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Header `calibration_id,calibration_type,value,timestamp,username,"
                "tags`; tags joined with `|`.",
            ),
            (400, "application/json"): OpenApiResponse(
                description="Malformed timestamp, bad tag name or unknown format."
            ),
            (401, "application/json"): OpenApiResponse(description="Not signed in."),
            (403, "application/json"): OpenApiResponse(description="A sensor account."),
        },
    )
    def download(self, request: Request) -> HttpResponseBase:
        query = SnapshotQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        options = query.validated_data
        as_of = options.get("timestamp") or timezone.now()
        parts = snapshot_parts(
            as_of=as_of,
            tag=options.get("tag"),
            calibration_type=options.get("calibration_type"),
            username=options.get("username"),
        )
        return snapshot_response(parts, as_of=as_of, fmt=options["format"])
