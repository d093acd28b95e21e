"""`/api/instruments`: the register of the devices the lab calibrates, each with its status and
due date (DESIGN §4.7), and an instrument's calibrations. No DELETE: an instrument calibrations
name is part of their record."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.fields import StrictCharField, StrictIntegerField, TimestampField, utc_iso
from config.api.pagination import CursorPagination

from ..conf import due_soon
from ..filtersets import InstrumentFilterSet
from ..models import (
    INSTRUMENT_ID_HELP,
    INSTRUMENT_ID_MAX_LENGTH,
    MAX_INTERVAL_DAYS,
    Calibration,
    Instrument,
    InstrumentKind,
    InstrumentStatus,
    validate_instrument_id,
)
from ..services import instrument_create, instrument_update
from .serializers import CalibrationSerializer

INSTRUMENT_ID = OpenApiParameter(
    "instrument_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description=f"The instrument's id: {INSTRUMENT_ID_HELP}",
)
STATUS_HELP = (
    "The first that applies: `retired` (`retired_at` reached), `out_of_tolerance` (its newest "
    "calibration is out of tolerance), `never_calibrated`, `overdue` (`due_at` passed), "
    "`due_soon` (`due_at` within `CALIBRATION_DUE_SOON`, 30 days by default), `ok`."
)
DUE_HELP = (
    "The timestamp of its newest calibration that is not out of tolerance plus "
    "`calibration_interval_days`; null without an interval or such a calibration."
)
NOT_FOUND = OpenApiResponse(description="No instrument has this id.")
BAD_INPUT = OpenApiResponse(description="Invalid input; the body names the field.")


class LastCalibrationSerializer(serializers.Serializer[Any]):
    """An instrument's newest calibration (by timestamp, then by when it was recorded)."""

    calibration_id = serializers.UUIDField()
    timestamp = TimestampField()
    in_tolerance = serializers.BooleanField(allow_null=True)


class InstrumentSerializer(serializers.ModelSerializer[Instrument]):
    """An instrument as the register shows it, with its status and due date computed by the
    query (`Instrument.objects.with_status`)."""

    retired_at = TimestampField(read_only=True, allow_null=True)
    created_at = TimestampField(read_only=True)
    last_calibration = serializers.SerializerMethodField()
    due_at = TimestampField(read_only=True, allow_null=True, help_text=DUE_HELP)
    status = serializers.ChoiceField(
        choices=InstrumentStatus.choices, read_only=True, help_text=STATUS_HELP
    )

    class Meta:
        model = Instrument
        fields = [
            "instrument_id",
            "name",
            "kind",
            "serial_number",
            "calibration_interval_days",
            "retired_at",
            "created_at",
            "last_calibration",
            "due_at",
            "status",
        ]
        read_only_fields = fields

    @extend_schema_field(LastCalibrationSerializer(allow_null=True))
    def get_last_calibration(self, instrument: Instrument) -> dict[str, Any] | None:
        # Annotated by `Instrument.objects.with_status()`, as are `due_at` and `status`.
        pk = getattr(instrument, "last_calibration_id", None)
        if pk is None:
            return None
        return {
            "calibration_id": str(pk),
            "timestamp": utc_iso(instrument.last_calibration_timestamp),  # type: ignore[attr-defined]
            "in_tolerance": instrument.last_calibration_in_tolerance,  # type: ignore[attr-defined]
        }

    def to_representation(self, instance: Instrument) -> dict[str, Any]:
        # As the fields above write it, built directly (a page is 50 of them; DRF's field walk
        # per row was most of a list's time in our layer elsewhere).
        # `test_instrument_representation_matches_its_declared_fields` keeps the two equal.
        due_at = getattr(instance, "due_at", None)
        return {
            "instrument_id": instance.instrument_id,
            "name": instance.name,
            "kind": instance.kind,
            "serial_number": instance.serial_number,
            "calibration_interval_days": instance.calibration_interval_days,
            "retired_at": None if instance.retired_at is None else utc_iso(instance.retired_at),
            "created_at": utc_iso(instance.created_at),
            "last_calibration": self.get_last_calibration(instance),
            "due_at": None if due_at is None else utc_iso(due_at),
            "status": instance.status,  # type: ignore[attr-defined]
        }


class InstrumentUpdateSerializer(serializers.Serializer[Any]):
    """What `PATCH /api/instruments/{id}` accepts: any subset of these."""

    name = StrictCharField(max_length=200, help_text="What the lab calls it (1–200 characters).")
    kind = serializers.ChoiceField(
        choices=InstrumentKind.choices, help_text="`sensor`, `reference` or `other`."
    )
    serial_number = StrictCharField(
        max_length=100, allow_blank=True, help_text="The maker's serial number, if any."
    )
    calibration_interval_days = StrictIntegerField(
        allow_null=True,
        min_value=1,
        max_value=MAX_INTERVAL_DAYS,
        help_text=f"Days from a calibration to the next (1–{MAX_INTERVAL_DAYS:,}); null: none.",
    )
    retired_at = TimestampField(
        allow_null=True, help_text="When it left (or leaves) service; null while in service."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Calibrations and placements name it by its id: said, rather than silently ignored.
        if "instrument_id" in self.initial_data:
            raise serializers.ValidationError(
                {"instrument_id": ["An instrument's id cannot be changed."]}
            )
        return attrs


class InstrumentCreateSerializer(InstrumentUpdateSerializer):
    """The body of `POST /api/instruments`."""

    instrument_id = StrictCharField(
        max_length=INSTRUMENT_ID_MAX_LENGTH,
        trim_whitespace=False,
        validators=[validate_instrument_id],
        help_text=INSTRUMENT_ID_HELP,
    )
    kind = serializers.ChoiceField(
        choices=InstrumentKind.choices,
        default=InstrumentKind.OTHER,
        help_text="`sensor`, `reference` or `other` (default).",
    )
    serial_number = StrictCharField(
        max_length=100, allow_blank=True, default="", help_text="The maker's serial number."
    )
    calibration_interval_days = StrictIntegerField(
        allow_null=True,
        required=False,
        min_value=1,
        max_value=MAX_INTERVAL_DAYS,
        help_text=f"Days from a calibration to the next (1–{MAX_INTERVAL_DAYS:,}); null: none.",
    )
    retired_at = TimestampField(
        allow_null=True, required=False, help_text="When it left service; null while in service."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return attrs


class InstrumentPagination(CursorPagination):
    """Soonest due first; instruments without a due date last (`due_sort`, see the view)."""

    ordering = "due_sort"


@extend_schema_view(
    list=extend_schema(
        summary="The instrument register, soonest due first",
        description="Instruments without a due date come last. " + STATUS_HELP,
        responses={200: InstrumentSerializer(many=True), 400: BAD_INPUT},
    ),
    retrieve=extend_schema(
        summary="One instrument, with its status and due date",
        parameters=[INSTRUMENT_ID],
        responses={200: InstrumentSerializer, 404: NOT_FOUND},
    ),
)
class InstrumentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Instrument]
):
    """The devices the lab calibrates: register them, change them, see what is due."""

    # Writes need `calibrations.add_instrument` / `change_instrument` (the default permission
    # class reads them from this model). No `destroy` and no `update`: DELETE and PUT are 405.
    queryset = Instrument.objects.all()
    serializer_class = InstrumentSerializer
    filterset_class = InstrumentFilterSet
    filter_backends = [DjangoFilterBackend]
    pagination_class = InstrumentPagination
    lookup_field = "pk"
    lookup_url_kwarg = "instrument_id"
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Instrument]:
        # Paged by `due_sort`: the due date, or for those without one the last instant there
        # is (the cursor needs a key that is never null), an indexed column.
        return Instrument.objects.with_status(now=timezone.now(), due_soon=due_soon())

    def get_serializer_class(self) -> Any:
        # The browsable API draws the POST and PATCH forms from this.
        if self.action == "create":
            return InstrumentCreateSerializer
        if self.action == "partial_update":
            return InstrumentUpdateSerializer
        return InstrumentSerializer

    def filter_queryset(self, queryset: QuerySet[Instrument, Any]) -> QuerySet[Instrument, Any]:
        # The filters are the list's: one instrument is found by its id alone.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_object(self) -> Instrument:
        raw = self.kwargs["instrument_id"]
        try:
            validate_instrument_id(raw)
        except DjangoValidationError:
            raise NotFound(f"Instrument '{raw}' not found.") from None
        instrument = self.get_queryset().filter(pk=raw).first()
        if instrument is None:
            raise NotFound(f"Instrument '{raw}' not found.")
        return instrument

    def _answer(self, instrument_id: str, *, status_code: int = 200) -> Response:
        self.kwargs["instrument_id"] = instrument_id
        body = InstrumentSerializer(self.get_object()).data
        headers = {}
        if status_code == status.HTTP_201_CREATED:
            path = reverse(
                "calibrations-api:instrument-detail", kwargs={"instrument_id": instrument_id}
            )
            headers["Location"] = self.request.build_absolute_uri(path)
        return Response(body, status=status_code, headers=headers)

    @extend_schema(
        summary="Register an instrument",
        request=InstrumentCreateSerializer,
        responses={
            201: InstrumentSerializer,
            400: OpenApiResponse(
                description="Invalid input, or an `instrument_id` that is taken (keyed by it)."
            ),
        },
        examples=[
            OpenApiExample(
                "A room thermometer calibrated every year",
                value={
                    "instrument_id": "TH-0042",
                    "name": "Balance room thermometer",
                    "kind": "sensor",
                    "serial_number": "SN 771-2024-118",
                    "calibration_interval_days": 365,
                },
                request_only=True,
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = InstrumentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            instrument = instrument_create(**body.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return self._answer(instrument.pk, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change an instrument: name, kind, serial number, interval, retirement",
        parameters=[INSTRUMENT_ID],
        request=InstrumentUpdateSerializer,
        responses={
            200: InstrumentSerializer,
            400: BAD_INPUT,
            403: OpenApiResponse(description="The user lacks `calibrations.change_instrument`."),
            404: NOT_FOUND,
        },
        examples=[
            OpenApiExample("Retire it", value={"retired_at": "2026-01-31T17:00:00Z"}),
            OpenApiExample("Every six months", value={"calibration_interval_days": 182}),
        ],
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instrument = self.get_object()
        changes = InstrumentUpdateSerializer(data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        try:
            instrument_update(instrument=instrument, **changes.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return self._answer(instrument.pk)

    @extend_schema(
        summary="An instrument's calibrations, newest first",
        parameters=[INSTRUMENT_ID],
        responses={200: CalibrationSerializer(many=True), 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def calibrations(self, request: Request, instrument_id: str) -> Response:
        try:
            validate_instrument_id(instrument_id)
            instrument = Instrument.objects.only("pk").get(pk=instrument_id)
        except (DjangoValidationError, Instrument.DoesNotExist):
            raise NotFound(f"Instrument '{instrument_id}' not found.") from None
        paginator = InstrumentCalibrationPagination()
        page = paginator.paginate_queryset(
            Calibration.objects.for_api().filter(instrument=instrument), request, view=self
        )
        data = CalibrationSerializer(page, many=True, context=self.get_serializer_context()).data
        return paginator.get_paginated_response(data)


class InstrumentCalibrationPagination(CursorPagination):
    """Newest calibration first."""

    ordering = "-timestamp"
