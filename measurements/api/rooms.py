"""`/api/rooms`: rooms with their range, status and newest reading; a room's range history."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.pagination import CursorPagination
from config.users import acting_user

from .. import clock
from ..conf import stale_after
from ..models import RangeVersion, Room, validate_room_id
from ..services import room_update
from .queries import UnitQuerySerializer
from .serializers import RangeVersionSerializer, RoomSerializer, RoomUpdateSerializer
from .views import BAD_INPUT, ROOM_ID, SENSOR_FORBIDDEN, UNKNOWN_ROOM, unit_from


class RoomPagination(CursorPagination):
    ordering = "room_id"


class RoomViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Room]):
    """Rooms, each with its acceptable range, status and latest reading.

    PATCH changes a room's name and range (needs `measurements.change_room`); there is no PUT:
    a room is changed field by field.
    """

    # No `update` method, so the router gives PUT a 405; PATCH's permission is the default
    # class's change_<model> of the queryset's model, `measurements.change_room`.

    queryset = Room.objects.all()
    serializer_class = RoomSerializer
    pagination_class = RoomPagination
    filter_backends: list[Any] = []
    lookup_field = "room_id"
    lookup_url_kwarg = "room_id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Room]:
        return Room.objects.with_status(now=clock.now(), stale_after=stale_after())

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "unit": unit_from(self.request)}

    def get_serializer_class(self) -> Any:
        # The browsable API draws the PATCH form from this: name and range, nothing read-only.
        if self.request is not None and self.request.method == "PATCH":
            return RoomUpdateSerializer
        return self.serializer_class

    def get_object(self) -> Room:
        raw = self.kwargs["room_id"]
        try:
            validate_room_id(raw)
        except DjangoValidationError:
            raise NotFound(f"Room '{raw}' not found.") from None
        room = self.get_queryset().filter(pk=raw).first()
        if room is None:
            raise NotFound(f"Room '{raw}' not found.")
        return room

    @extend_schema(
        summary="Change a room's name, acceptable range and alarm rules",
        description=(
            "Any subset of `name`, `min_c`, `max_c` (°C, JSON numbers; null clears), "
            "`reason`, and the alarm rules `alarm_delay`, `alarm_deadband_c`, "
            "`alarms_enabled`. The checks apply to the range that would result: both bounds or neither, "
            "`min_c < max_c`, finite numbers from −273.15 to 1,000,000 °C; otherwise 400 and "
            "nothing changes. A range that differs from the room's is a new version of its "
            "range history: the first needs no reason, every later one (a change, a clearing, "
            "a range set again) a non-blank `reason` (else 400 naming `reason`). A range left "
            "as it is writes no version."
        ),
        parameters=[ROOM_ID, UnitQuerySerializer],
        request=RoomUpdateSerializer,
        responses={
            200: RoomSerializer,
            400: BAD_INPUT,
            403: OpenApiResponse(description="The user lacks `measurements.change_room`."),
            404: UNKNOWN_ROOM,
        },
        examples=[
            OpenApiExample(
                "A balance room at 20 ± 2 °C", value={"min_c": 18, "max_c": 22}, request_only=True
            ),
            OpenApiExample(
                "A wider range, with its reason",
                value={"min_c": 17, "max_c": 23, "reason": "SOP-12 rev. 4 widens the band"},
                request_only=True,
            ),
        ],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        unit_from(request)
        room = self.get_object()
        changes = RoomUpdateSerializer(data=request.data)
        changes.is_valid(raise_exception=True)
        fields = changes.validated_data
        try:
            room_update(room=room, **fields, user=acting_user(request))
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        # The view's own shape: an app that extends this route answers with its fields too.
        return Response(
            self.serializer_class(self.get_object(), context=self.get_serializer_context()).data
        )

    @extend_schema(
        summary="Rooms by id, each with its range, status and latest reading",
        parameters=[UnitQuerySerializer],
        responses={200: RoomSerializer(many=True), 400: BAD_INPUT, 403: SENSOR_FORBIDDEN},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One room with its range, status and latest reading",
        parameters=[ROOM_ID, UnitQuerySerializer],
        responses={200: RoomSerializer, 403: SENSOR_FORBIDDEN, 404: UNKNOWN_ROOM},
    )
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="A room's range history, oldest first",
        description=(
            "Every version of the room's acceptable range: version 1 is its first range, each "
            "later one a change or a clearing (min_c/max_c null), with who, when and why. The "
            "range in force at an instant is the newest version changed at or before it (before "
            "version 1, version 1). Empty for a room that never had a range."
        ),
        parameters=[ROOM_ID],
        responses={
            200: RangeVersionSerializer(many=True),
            403: SENSOR_FORBIDDEN,
            404: UNKNOWN_ROOM,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="range-history",
        pagination_class=None,
        filter_backends=[],
    )
    def range_history(self, request: Request, room_id: str) -> Response:
        try:
            validate_room_id(room_id)
            room = Room.objects.only("pk").get(pk=room_id)
        except (DjangoValidationError, Room.DoesNotExist):
            raise NotFound(f"Room '{room_id}' not found.") from None
        versions = RangeVersion.objects.of_room(room)
        return Response(RangeVersionSerializer(versions, many=True).data)
