"""`/api/measurements/{room_id}`: post, list, average, series, excursions (`/api/rooms` is in
`rooms`)."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorPagination

from .. import clock
from ..durations import DURATION_HELP, DurationError, format_duration, parse_duration
from ..filtersets import MeasurementFilterSet
from ..models import ROOM_ID_HELP, Bucket, Measurement, Room, Summary, validate_room_id
from ..selectors import (
    excursions,
    mkt_buckets,
    mkt_summary,
    time_weighted_buckets,
    time_weighted_summary,
)
from ..services import ReadingsBodyError, reading_store, readings_ingest, readings_parse
from ..units import from_celsius_or_none
from .queries import (
    MAX_BUCKETS,
    AverageQuerySerializer,
    ExcursionsQuerySerializer,
    SeriesQuerySerializer,
    UnitQuerySerializer,
)
from .serializers import (
    AverageSerializer,
    BucketSerializer,
    ExcursionsSerializer,
    IngestResultSerializer,
    ReadingErrorSerializer,
    ReadingInSerializer,
    ReadingSerializer,
)

ROOM_ID = OpenApiParameter(
    "room_id", OpenApiTypes.STR, OpenApiParameter.PATH, description=f"The room's id: {ROOM_ID_HELP}"
)
DURATION = OpenApiParameter(
    "duration", OpenApiTypes.STR, OpenApiParameter.PATH, description=DURATION_HELP
)
UNKNOWN_ROOM = OpenApiResponse(description="The room never had a reading (or its id is malformed).")
BAD_INPUT = OpenApiResponse(description="Invalid input; the body names the field.")
SENSOR_FORBIDDEN = OpenApiResponse(
    description="A sensor account (only `measurements.add_measurement`) may only post readings."
)
READINGS_IN = PolymorphicProxySerializer(
    component_name="ReadingOrReadings",
    serializers=[ReadingInSerializer, ReadingInSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


def room_or_404(room_id: str, rooms: QuerySet[Room] | None = None) -> Room:
    """The room (from `rooms`, default all), or a 404 saying it has no readings (a malformed
    id cannot name a room)."""
    try:
        validate_room_id(room_id)
        return (Room.objects.all() if rooms is None else rooms).get(pk=room_id)
    except (DjangoValidationError, Room.DoesNotExist):
        raise NotFound(f"Room '{room_id}' has no readings.") from None


def unit_from(request: Request) -> str:
    """The `unit` query parameter (default C); 400 when it is not C, F or K."""
    query = UnitQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return str(query.validated_data["unit"])


class ReadingPagination(CursorPagination):
    """Newest reading first."""

    ordering = "-timestamp"


class MeasurementViewSet(viewsets.GenericViewSet[Measurement]):
    """A room's temperature readings: post them, list them, average and bucket them."""

    queryset = Measurement.objects.all()
    serializer_class = ReadingSerializer
    filterset_class = MeasurementFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = ReadingPagination
    action_permissions = {"ingest": ["measurements.add_measurement"]}
    # What an account holding only `measurements.add_measurement` (a sensor) may do.
    sensor_actions = frozenset({"ingest"})

    def get_serializer_class(self) -> Any:
        # The browsable API draws the POST form of one reading from this.
        return ReadingInSerializer if self.action == "ingest" else ReadingSerializer

    @extend_schema(
        summary="Post one reading, or an array of up to 10,000",
        description=(
            "One reading (a JSON object) → 201 with the stored reading, or 200 with the "
            "reading already stored for the same (room, timestamp, sensor): the first value "
            "stored wins. An array → 201 with how many were created and how many were "
            "duplicates (already stored or repeated in the array); an array is all or "
            "nothing: one bad reading → 400 naming its index, nothing stored. Values are "
            "stored in °C; the room is created by its first reading."
        ),
        parameters=[ROOM_ID],
        request=READINGS_IN,
        responses={
            201: PolymorphicProxySerializer(
                component_name="ReadingOrIngestResult",
                serializers=[ReadingSerializer, IngestResultSerializer],
                resource_type_field_name=None,
            ),
            200: OpenApiResponse(ReadingSerializer, description="That reading was already stored."),
            403: OpenApiResponse(description="The user lacks `measurements.add_measurement`."),
            400: OpenApiResponse(
                ReadingErrorSerializer,
                description=(
                    'Invalid input. One reading: errors keyed by field (`{"value": ["…"]}`). '
                    "An array: `detail`, the first bad `index` and `errors` by index; an array "
                    "over 10,000 readings, an empty one, or a body neither object nor array: "
                    '`{"detail": "…"}`. An invalid room id: `{"room_id": ["…"]}`.'
                ),
            ),
        },
        examples=[
            OpenApiExample(
                "One reading",
                value={"value": 21.5, "unit": "C", "timestamp": "2025-04-01T10:00:00Z"},
                request_only=True,
            ),
            OpenApiExample(
                "An array",
                value=[
                    {"value": 70.7, "unit": "F", "timestamp": "2025-04-01T10:00:00Z"},
                    {"value": 294.6, "unit": "K", "timestamp": "2025-04-01T10:10:00Z"},
                ],
                request_only=True,
            ),
        ],
    )
    def ingest(self, request: Request, room_id: str) -> Response:
        try:
            validate_room_id(room_id)
        except DjangoValidationError as exc:
            raise ValidationError({"room_id": exc.messages}) from None
        try:
            parsed = readings_parse(request.data, now=clock.now())
        except ReadingsBodyError as exc:
            return Response(exc.body, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(parsed, list):
            result = readings_ingest(room_id=room_id, readings=parsed)
            return Response(IngestResultSerializer(result).data, status=status.HTTP_201_CREATED)
        stored = reading_store(room_id=room_id, reading=parsed)
        return Response(
            ReadingSerializer(stored.measurement).data,
            status=status.HTTP_201_CREATED if stored.created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="A room's readings, newest first",
        parameters=[ROOM_ID, UnitQuerySerializer],
        responses={
            200: ReadingSerializer(many=True),
            400: BAD_INPUT,
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    def list(self, request: Request, room_id: str) -> Response:
        unit = unit_from(request)
        room = room_or_404(room_id)
        queryset = self.filter_queryset(self.readings_of(room))
        page = self.paginate_queryset(queryset)
        data = self.get_serializer_class()(page, many=True, context={"unit": unit}).data
        return self.get_paginated_response(data)

    def readings_of(self, room: Room) -> QuerySet[Measurement]:
        """The readings the list pages through: a door for an app above this one, which
        extends this view and its serializer to add to each reading (DESIGN §3)."""
        return Measurement.objects.filter(room=room)


class RoomStatisticsViewSet(viewsets.GenericViewSet[Measurement]):
    """Statistics of a room's readings: over the last duration, in buckets, and its excursions
    outside its acceptable range."""

    queryset = Measurement.objects.all()
    serializer_class = AverageSerializer
    pagination_class = None
    filter_backends: list[Any] = []
    sensor_actions: frozenset[str] = frozenset()

    @extend_schema(
        summary="Average, min, max and count of a room's readings over the last duration",
        description=(
            "The window is `[now − duration, now]`, both ends inclusive. A room with no "
            "reading in the window → 200 with `count` 0 and `average`, `min`, `max` null "
            "(`time_weighted`, `mkt`: `average` is then the last reading before the window, if "
            "any). `method` picks the arithmetic mean (default), the time-weighted average or "
            "the mean kinetic temperature (`mkt`, with `activation_energy`; the answer adds it)."
        ),
        parameters=[ROOM_ID, DURATION, AverageQuerySerializer],
        responses={
            200: AverageSerializer,
            400: BAD_INPUT,
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    def average(self, request: Request, room_id: str, duration: str) -> Response:
        try:
            width = parse_duration(duration)
        except DurationError as exc:
            raise ValidationError({"duration": [str(exc)]}) from None
        query = AverageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        unit, method = query.validated_data["unit"], query.validated_data["method"]
        energy = query.validated_data["activation_energy"]
        room = room_or_404(room_id)
        end = clock.now()
        start = end - width
        summary: Summary
        if method == "time_weighted":
            summary = time_weighted_summary(room, start, end)
        elif method == "mkt":
            summary = mkt_summary(room, start, end, energy)
        else:
            summary = Measurement.objects.window(room, start, end).summary()
        body = AverageSerializer(
            {
                "room_id": room.room_id,
                "duration": format_duration(width),
                "from": start,
                "to": end,
                "unit": unit,
                **{k: from_celsius_or_none(summary[k], unit) for k in ("average", "min", "max")},  # type: ignore[literal-required]
                "count": summary["count"],
                "method": method,
                "activation_energy": energy if method == "mkt" else None,
            }
        )
        return Response(body.data)

    @extend_schema(
        summary="A room's readings in buckets aligned to the UTC epoch, oldest first",
        description=(
            "Each bucket is `[start, start + bucket)`; empty buckets are left out. At most "
            f"{MAX_BUCKETS:,} buckets between `from` and `to`, else 400. With "
            "`method=time_weighted` or `mkt` each bucket is a window of its own (its part of "
            "`[from, to]`), whose start is covered by the last reading before it; `average` is "
            "then its time-weighted average or its mean kinetic temperature."
        ),
        parameters=[ROOM_ID, SeriesQuerySerializer],
        responses={
            200: BucketSerializer(many=True),
            400: BAD_INPUT,
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    def series(self, request: Request, room_id: str) -> Response:
        query = SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        start, end, width = params["from"], params["to"], params["width"]
        room = room_or_404(room_id)
        buckets: list[Bucket]
        if params["method"] == "time_weighted":
            buckets = time_weighted_buckets(room, start, end, width)
        elif params["method"] == "mkt":
            buckets = mkt_buckets(room, start, end, width, params["activation_energy"])
        else:
            buckets = Measurement.objects.window(room, start, end).buckets(width)
        return Response(BucketSerializer(buckets, many=True, context={"unit": params["unit"]}).data)

    @extend_schema(
        summary="A room's excursions outside its acceptable range, oldest first",
        description=(
            "An excursion is a maximal run of consecutive readings (in time order, every "
            "sensor of the room merged; the readings of one instant count as one, their mean) "
            "outside the range on the same side, each judged by the range in force at its "
            "timestamp (the room's range history). A value exactly on a bound is inside, and so "
            "is one with no range in force. `min` and `max` are the range in force at `to`, in "
            "`unit` (null when none). `started_before`: the reading just before `from` was "
            "outside on the same side. `to` defaults to now, `from` to `to` − 7 days; both are "
            "inclusive."
        ),
        parameters=[ROOM_ID, ExcursionsQuerySerializer],
        responses={
            200: ExcursionsSerializer,
            400: BAD_INPUT,
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    def excursions(self, request: Request, room_id: str) -> Response:
        query = ExcursionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        start, end = params["from"], params["to"]
        # The room and the range in force at `to` in one statement; the runs in another.
        room = room_or_404(room_id, Room.objects.with_range_at(end))
        unit = params["unit"]
        found = excursions(room, start, end)
        body = ExcursionsSerializer(
            {
                "room_id": room.room_id,
                "from": start,
                "to": end,
                "unit": unit,
                "min": from_celsius_or_none(room.range_min_c, unit),  # type: ignore[attr-defined]
                "max": from_celsius_or_none(room.range_max_c, unit),  # type: ignore[attr-defined]
                "excursions": found,
            },
            context={"unit": unit},
        )
        return Response(body.data)
