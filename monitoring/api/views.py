"""Placements (`/api/instruments/{id}/placements`, `/api/rooms/{room_id}/placements`), a
calibration's impact (`/api/calibrations/{id}/impact`), and a room's readings with the
instrument that took each (`/api/measurements/{room_id}`, measurements' view extended)."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from calibrations.api.serializers import AsOfQuerySerializer
from calibrations.conf import due_soon
from calibrations.models import INSTRUMENT_ID_HELP, Calibration, Instrument, validate_instrument_id
from config.api.pagination import CursorPagination
from measurements.api.queries import UnitQuerySerializer
from measurements.api.views import (
    BAD_INPUT,
    ROOM_ID,
    SENSOR_FORBIDDEN,
    UNKNOWN_ROOM,
    MeasurementViewSet,
    room_or_404,
)
from measurements.models import Measurement, Room

from ..models import Placement
from ..selectors import NotAssessable, calibration_impact, placements_with_status, with_instrument
from ..services import (
    PlacementAlreadyRemoved,
    PlacementConflict,
    placement_create,
    placement_remove,
)
from .serializers import (
    ConflictSerializer,
    ImpactSerializer,
    InstrumentReadingSerializer,
    PlacementCreateSerializer,
    PlacementRemoveSerializer,
    PlacementSerializer,
    RoomPlacementSerializer,
)

INSTRUMENT_ID = OpenApiParameter(
    "instrument_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=f"The instrument's id: {INSTRUMENT_ID_HELP}",
)
PLACEMENT_ID = OpenApiParameter(
    "placement_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The placement's id."
)
CALIBRATION_ID = OpenApiParameter(
    "calibration_id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The calibration's id."
)
UNKNOWN_INSTRUMENT = OpenApiResponse(description="No instrument has this id.")


def instrument_or_404(instrument_id: str) -> Instrument:
    try:
        validate_instrument_id(instrument_id)
        return Instrument.objects.get(pk=instrument_id)
    except (DjangoValidationError, Instrument.DoesNotExist):
        raise NotFound(f"Instrument '{instrument_id}' not found.") from None


def _conflict(message: str, placement: Placement) -> Response:
    return Response(
        {"detail": message, "placement": PlacementSerializer(placement).data},
        status=status.HTTP_409_CONFLICT,
    )


class PlacementPagination(CursorPagination):
    """Oldest placement first."""

    ordering = "placed_at"


class InstrumentPlacementViewSet(viewsets.GenericViewSet[Placement]):
    """Where an instrument was placed: as which sensor of which room, from when until when.

    Placing needs `monitoring.add_placement`, removing `monitoring.change_placement`."""

    queryset = Placement.objects.all()
    serializer_class = PlacementSerializer
    pagination_class = PlacementPagination
    filter_backends: list[Any] = []
    action_permissions = {"remove": ["monitoring.change_placement"]}

    def get_serializer_class(self) -> Any:
        # The browsable API draws the POST forms from this.
        if self.action == "create":
            return PlacementCreateSerializer
        if self.action == "remove":
            return PlacementRemoveSerializer
        return PlacementSerializer

    @extend_schema(
        summary="An instrument's placements, oldest first",
        parameters=[INSTRUMENT_ID],
        responses={200: PlacementSerializer(many=True), 404: UNKNOWN_INSTRUMENT},
    )
    def list(self, request: Request, instrument_id: str) -> Response:
        instrument = instrument_or_404(instrument_id)
        page = self.paginate_queryset(Placement.objects.filter(instrument=instrument))
        return self.get_paginated_response(PlacementSerializer(page, many=True).data)

    @extend_schema(
        summary="Place an instrument as a sensor of a room",
        description=(
            "From `placed_at` (default now) the readings of that room with that `sensor` are "
            "this instrument's. Closes nothing implicitly: an open placement of the instrument "
            "or of the (room, sensor), or any placement of either that shares an instant with "
            "this one, is a 409 naming it."
        ),
        parameters=[INSTRUMENT_ID],
        request=PlacementCreateSerializer,
        responses={
            201: PlacementSerializer,
            400: OpenApiResponse(
                description="An unknown room, a bad sensor or time, or a retired instrument."
            ),
            404: UNKNOWN_INSTRUMENT,
            409: OpenApiResponse(
                ConflictSerializer, description="Another placement is in the way."
            ),
        },
        examples=[
            OpenApiExample(
                "The north-wall thermometer of lab-1",
                value={
                    "room_id": "lab-1",
                    "sensor": "north-wall",
                    "placed_at": "2025-04-01T09:00:00Z",
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, instrument_id: str) -> Response:
        instrument = instrument_or_404(instrument_id)
        body = PlacementCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            placement = placement_create(instrument=instrument, **body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        except PlacementConflict as exc:
            return _conflict(exc.message, exc.placement)
        return Response(PlacementSerializer(placement).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="End a placement",
        description="From `removed_at` (default now; not before `placed_at`) the sensor's "
        "readings are no longer this instrument's.",
        parameters=[INSTRUMENT_ID, PLACEMENT_ID],
        request=PlacementRemoveSerializer,
        responses={
            200: PlacementSerializer,
            400: BAD_INPUT,
            404: OpenApiResponse(description="Unknown instrument, or no such placement of it."),
            409: OpenApiResponse(ConflictSerializer, description="It was removed already."),
        },
    )
    def remove(self, request: Request, instrument_id: str, placement_id: str) -> Response:
        instrument = instrument_or_404(instrument_id)
        placement = (
            Placement.objects.filter(instrument=instrument, pk=placement_id).first()
            if placement_id.isascii() and placement_id.isdigit() and len(placement_id) < 19
            else None
        )
        if placement is None:
            raise NotFound(f"Instrument '{instrument.pk}' has no placement {placement_id}.")
        body = PlacementRemoveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            removed = placement_remove(placement=placement, **body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        except PlacementAlreadyRemoved as exc:
            return _conflict(str(exc), exc.placement)
        return Response(PlacementSerializer(removed).data)


class RoomPlacementViewSet(viewsets.GenericViewSet[Placement]):
    """The instruments placed in a room at an instant."""

    queryset = Placement.objects.all()
    serializer_class = RoomPlacementSerializer
    pagination_class = PlacementPagination
    filter_backends: list[Any] = []

    @extend_schema(
        summary="A room's placements in force at an instant, with their instruments' status",
        parameters=[ROOM_ID, AsOfQuerySerializer],
        responses={
            200: RoomPlacementSerializer(many=True),
            400: BAD_INPUT,
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    def list(self, request: Request, room_id: str) -> Response:
        query = AsOfQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        asked = query.validated_data.get("timestamp")
        room = room_or_404(room_id)
        placements = placements_with_status(
            Placement.objects.filter(room=room).in_force_at(asked or timezone.now()),
            at=asked,
            due_soon=due_soon(),
        )
        page = self.paginate_queryset(placements)
        return self.get_paginated_response(RoomPlacementSerializer(page, many=True).data)


class ImpactViewSet(viewsets.GenericViewSet[Calibration]):
    """What a device found out of tolerance measured since its last good calibration."""

    queryset = Calibration.objects.all()
    serializer_class = ImpactSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(
        summary="The impact of an out-of-tolerance calibration (ISO/IEC 17025 7.10)",
        description=(
            "The window runs from the instrument's previous calibration that is not out of "
            "tolerance (or else its first placement) to this calibration's timestamp. Each "
            "placement in it, clipped to it, with the readings the instrument took there "
            "(both ends inclusive; none at the instant a placement ended) and the excursions "
            "of that room."
        ),
        parameters=[CALIBRATION_ID],
        responses={
            200: ImpactSerializer,
            404: OpenApiResponse(description="Unknown calibration."),
            409: OpenApiResponse(
                description="The calibration is in tolerance, was not assessed, or names no "
                "instrument: there is no impact to trace."
            ),
        },
    )
    def retrieve(self, request: Request, calibration_id: str) -> Response:
        try:
            calibration = Calibration.objects.get(pk=calibration_id)
        except (Calibration.DoesNotExist, DjangoValidationError):  # a malformed UUID too
            raise NotFound(f"Calibration {calibration_id} not found.") from None
        try:
            impact = calibration_impact(calibration)
        except NotAssessable as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ImpactSerializer(impact).data)


class InstrumentReadingViewSet(MeasurementViewSet):
    """A room's readings, each with the instrument that took it (DESIGN §4.7): measurements'
    view, extended here because only monitoring knows placements."""

    def readings_of(self, room: Room) -> QuerySet[Measurement]:
        return with_instrument(super().readings_of(room))

    def get_serializer_class(self) -> Any:
        return (
            InstrumentReadingSerializer if self.action == "list" else super().get_serializer_class()
        )

    @extend_schema(
        summary="A room's readings, newest first, each with the instrument that took it",
        description=(
            "`instrument` is the instrument placed as the reading's (room, sensor) at its "
            "timestamp (placed at or before it, not removed at it), or null."
        ),
        parameters=[ROOM_ID, UnitQuerySerializer],
        responses={
            200: InstrumentReadingSerializer(many=True),
            400: BAD_INPUT,
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    def list(self, request: Request, room_id: str) -> Response:
        return super().list(request, room_id)
