"""`/api/alarms` (list, read, acknowledge), `/api/notification-targets`, and `/api/rooms` with
each room's open alarms (measurements' rooms route, extended: measurements knows nothing of
alarms). Placements, readings with their instrument and impacts are in `views`."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
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
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.exceptions import Conflict
from config.api.pagination import CursorPagination
from config.api.permissions import signed_in_user
from measurements.api.rooms import RoomViewSet

from ..filtersets import AlarmFilterSet
from ..models import Alarm, NotificationTarget
from ..selectors import OpenAlarms
from ..services import (
    AlreadyAcknowledgedError,
    alarm_acknowledge,
    target_create,
    target_update,
)
from .serializers import (
    AcknowledgeSerializer,
    AlarmSerializer,
    MonitoredRoomSerializer,
    NotificationTargetSerializer,
    NotificationTargetWriteSerializer,
)

ALARM_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The alarm's id."
)
TARGET_ID = OpenApiParameter(
    "id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The target's id."
)
BAD_INPUT = OpenApiResponse(description="Invalid input; the body names the field.")


class AlarmPagination(CursorPagination):
    """Newest alarm first (the id orders alarms raised at one instant)."""

    ordering = ("-raised_at", "-id")  # type: ignore[assignment]  # DRF takes a tuple too


@extend_schema_view(
    list=extend_schema(
        summary="Alarms, newest first", responses={200: AlarmSerializer(many=True), 400: BAD_INPUT}
    ),
    retrieve=extend_schema(
        summary="One alarm, with its notifications",
        parameters=[ALARM_ID],
        responses={200: AlarmSerializer, 404: OpenApiResponse(description="Unknown alarm.")},
    ),
)
class AlarmViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Alarm]
):
    """Alarms of rooms out of range or silent: who was told, and who acknowledged them."""

    queryset = Alarm.objects.all()
    serializer_class = AlarmSerializer
    filterset_class = AlarmFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = AlarmPagination
    action_permissions = {"acknowledge": ["monitoring.change_alarm"]}

    def get_queryset(self) -> QuerySet[Alarm]:
        # Each page's notifications and their targets come in two more queries, not per alarm.
        return Alarm.objects.prefetch_related("notifications__target")

    def get_object(self) -> Alarm:
        raw = self.kwargs["pk"]
        if not str(raw).isdigit() or len(str(raw)) > 18:
            raise NotFound(f"Alarm {raw} not found.")
        alarm = self.get_queryset().filter(pk=int(raw)).first()
        if alarm is None:
            raise NotFound(f"Alarm {raw} not found.")
        return alarm

    def get_serializer_class(self) -> Any:
        # The browsable API draws the acknowledge form from this.
        return AcknowledgeSerializer if self.action == "acknowledge" else AlarmSerializer

    @extend_schema(
        summary="Acknowledge an alarm with a comment (it does not clear it)",
        parameters=[ALARM_ID],
        request=AcknowledgeSerializer,
        examples=[
            OpenApiExample(
                "A door left open",
                value={"comment": "Door was propped open for a delivery; closed at 10:40."},
                request_only=True,
            )
        ],
        responses={
            200: AlarmSerializer,
            400: OpenApiResponse(description="A blank or missing comment."),
            403: OpenApiResponse(description="The user lacks `monitoring.change_alarm`."),
            404: OpenApiResponse(description="Unknown alarm."),
            409: OpenApiResponse(description="Already acknowledged; the body says by whom."),
        },
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def acknowledge(self, request: Request, pk: str) -> Response:
        alarm = self.get_object()
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            alarm_acknowledge(
                alarm=alarm,
                username=signed_in_user(request).get_username(),
                comment=body.validated_data["comment"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        except AlreadyAcknowledgedError as exc:
            raise Conflict(str(exc)) from None
        return Response(AlarmSerializer(self.get_object()).data)


class TargetPagination(CursorPagination):
    ordering = "name"


@extend_schema_view(
    list=extend_schema(summary="Notification targets, by name (URLs masked)"),
    retrieve=extend_schema(summary="One notification target (URL masked)", parameters=[TARGET_ID]),
)
class NotificationTargetViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[NotificationTarget]
):
    """Where alarms are told: Apprise URLs for some rooms and events. Reading them needs
    `monitoring.view_notificationtarget`: their URLs carry secrets, shown masked."""

    queryset = NotificationTarget.objects.all()
    serializer_class = NotificationTargetSerializer
    pagination_class = TargetPagination
    filter_backends: list[Any] = []
    read_permissions = ["monitoring.view_notificationtarget"]

    def get_queryset(self) -> QuerySet[NotificationTarget]:
        return NotificationTarget.objects.prefetch_related("rooms")

    def get_object(self) -> NotificationTarget:
        raw = self.kwargs["pk"]
        target = (
            self.get_queryset().filter(pk=int(raw)).first()
            if str(raw).isdigit() and len(str(raw)) <= 18
            else None
        )
        if target is None:
            raise NotFound(f"Notification target {raw} not found.")
        return target

    def get_serializer_class(self) -> Any:
        if self.request is not None and self.request.method in ("POST", "PATCH"):
            return NotificationTargetWriteSerializer
        return NotificationTargetSerializer

    @extend_schema(
        summary="Add a notification target",
        request=NotificationTargetWriteSerializer,
        examples=[
            OpenApiExample(
                "A webhook for the lab's alarms",
                value={
                    "name": "Lab webhook",
                    "url": "jsons://hooks.example.org/alarms?token=s3cret",
                    "events": ["raised", "cleared", "acknowledged", "repeat"],
                    "rooms": [],
                },
                request_only=True,
            )
        ],
        responses={201: NotificationTargetSerializer, 400: BAD_INPUT},
    )
    def create(self, request: Request) -> Response:
        body = NotificationTargetWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            target = target_create(**body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(
            NotificationTargetSerializer(self._fresh(target.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Change a notification target",
        parameters=[TARGET_ID],
        request=NotificationTargetWriteSerializer(partial=True),
        responses={
            200: NotificationTargetSerializer,
            400: BAD_INPUT,
            404: OpenApiResponse(description="Unknown target."),
        },
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        target = self.get_object()
        body = NotificationTargetWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            target_update(target=target, **body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(NotificationTargetSerializer(self._fresh(target.pk)).data)

    def _fresh(self, pk: int) -> NotificationTarget:
        return self.get_queryset().get(pk=pk)


class MonitoredRoomViewSet(RoomViewSet):
    """Rooms as the measurements app serves them, each with how many alarms are open."""

    serializer_class = MonitoredRoomSerializer

    def get_queryset(self) -> QuerySet[Any]:
        # One more correlated count per room row, on the open alarms' partial index.
        return super().get_queryset().annotate(open_alarms=OpenAlarms())
