"""Shapes of monitoring in the API: alarms and their notifications, notification targets (URLs
masked), rooms with their open alarms; placements, a reading with its instrument, and a
calibration's impact."""

from typing import Any

from rest_framework import serializers

from calibrations.models import InstrumentStatus
from config.api.fields import StrictCharField, TimestampField, utc_iso
from measurements.api.serializers import ExcursionSerializer, ReadingSerializer, RoomSerializer
from measurements.models import (
    ROOM_ID_HELP,
    ROOM_ID_MAX_LENGTH,
    SENSOR_MAX_LENGTH,
    Measurement,
    Room,
)
from measurements.services import validate_sensor

from ..delivery import alarm_json
from ..models import (
    Alarm,
    AlarmKind,
    DeliveryState,
    Event,
    Notification,
    NotificationTarget,
    Placement,
)
from ..notify import masked
from ..selectors import Impact


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    """One announcement of an alarm's event to one target, and how its delivery went."""

    target = serializers.CharField(source="target.name", help_text="The target's name.")
    state = serializers.ChoiceField(choices=DeliveryState.choices)
    sent_at = TimestampField(allow_null=True)
    last_error = serializers.CharField(help_text="Why the last attempt failed (masked).")

    class Meta:
        model = Notification
        fields = ["target", "event", "state", "attempts", "sent_at", "last_error"]
        read_only_fields = fields

    def to_representation(self, instance: Notification) -> dict[str, Any]:
        return {
            "target": instance.target.name,
            "event": instance.event,
            "state": instance.state,
            "attempts": instance.attempts,
            "sent_at": None if instance.sent_at is None else utc_iso(instance.sent_at),
            "last_error": masked(instance.target.url, instance.last_error),
        }


class AlarmSerializer(serializers.ModelSerializer[Alarm]):
    """An alarm, its lifecycle and its notifications (DESIGN §4.8)."""

    room_id = serializers.CharField()
    kind = serializers.ChoiceField(choices=AlarmKind.choices)
    opened_at = TimestampField(help_text="When the condition began.")
    raised_at = TimestampField(help_text="When it was raised.")
    cleared_at = TimestampField(
        allow_null=True, help_text="The reading that ended it; null while active."
    )
    peak = serializers.FloatField(allow_null=True, help_text="°C; null for no_data.")
    acknowledged_at = TimestampField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True, help_text="A username.")
    notifications = NotificationSerializer(many=True)

    class Meta:
        model = Alarm
        fields = [
            "id",
            "room_id",
            "kind",
            "opened_at",
            "raised_at",
            "cleared_at",
            "peak",
            "readings",
            "acknowledged_at",
            "acknowledged_by",
            "comment",
            "notifications",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Alarm) -> dict[str, Any]:
        notification = NotificationSerializer()
        return {
            **alarm_json(instance),
            "notifications": [
                notification.to_representation(n) for n in instance.notifications.all()
            ],
        }


class AcknowledgeSerializer(serializers.Serializer[Any]):
    """`POST /api/alarms/{id}/acknowledge`: what the person says about it."""

    comment = StrictCharField(
        allow_blank=True, max_length=2000, help_text="Required, not blank: what was done."
    )


class NotificationTargetSerializer(serializers.ModelSerializer[NotificationTarget]):
    """A target as every answer shows it: its URL with passwords, tokens and keys as `***`."""

    url = serializers.SerializerMethodField(help_text="The Apprise URL, secrets masked.")
    rooms = serializers.SerializerMethodField(help_text="Room ids; empty: every room.")
    events = serializers.ListField(child=serializers.ChoiceField(choices=Event.choices))

    class Meta:
        model = NotificationTarget
        fields = ["id", "name", "url", "enabled", "rooms", "events"]
        read_only_fields = fields

    def get_url(self, target: NotificationTarget) -> str:
        return masked(target.url)

    def get_rooms(self, target: NotificationTarget) -> list[str]:
        return sorted(room.pk for room in target.rooms.all())


class NotificationTargetWriteSerializer(serializers.Serializer[Any]):
    """What creating or changing a target takes; the service checks each field."""

    name = StrictCharField(max_length=100, help_text="A name people recognise.")
    url = StrictCharField(
        max_length=2000,
        help_text="An Apprise URL (mailto://…, jsons://…, slack://…). Sending back the masked "
        "URL an answer showed keeps the stored one.",
    )
    enabled = serializers.BooleanField(required=False, default=True)
    rooms = serializers.ListField(
        child=StrictCharField(max_length=64),
        required=False,
        default=list,
        max_length=5000,
        help_text="Room ids it hears of; empty: every room.",
    )
    events = serializers.ListField(
        child=StrictCharField(max_length=20),
        required=False,
        default=list,
        max_length=10,
        help_text=f"Any of {', '.join(Event.values)}.",
    )


class MonitoredRoomSerializer(RoomSerializer):
    """A room as the measurements app shows it, and how many of its alarms are open."""

    open_alarms = serializers.IntegerField(help_text="Alarms active or not acknowledged.")

    class Meta(RoomSerializer.Meta):
        model = Room
        fields = [*RoomSerializer.Meta.fields, "open_alarms"]
        read_only_fields = fields

    def to_representation(self, instance: Room) -> dict[str, Any]:
        return {
            **super().to_representation(instance),
            "open_alarms": instance.open_alarms,  # type: ignore[attr-defined]
        }


class PlacementSerializer(serializers.ModelSerializer[Placement]):
    """One period during which an instrument reported as a sensor of a room."""

    instrument_id = serializers.CharField(read_only=True, help_text="The instrument placed.")
    room_id = serializers.CharField(read_only=True, help_text=ROOM_ID_HELP)
    placed_at = TimestampField(read_only=True)
    removed_at = TimestampField(
        read_only=True, allow_null=True, help_text="Null while it is still placed."
    )

    class Meta:
        model = Placement
        fields = ["id", "instrument_id", "room_id", "sensor", "placed_at", "removed_at"]
        read_only_fields = fields

    def to_representation(self, instance: Placement) -> dict[str, Any]:
        # As the fields above write it, built directly; `test_placement_representations`
        # keeps the two equal.
        return {
            "id": instance.pk,
            "instrument_id": instance.instrument_id,
            "room_id": instance.room_id,
            "sensor": instance.sensor,
            "placed_at": utc_iso(instance.placed_at),
            "removed_at": None if instance.removed_at is None else utc_iso(instance.removed_at),
        }


class RoomPlacementSerializer(PlacementSerializer):
    """A placement in force at the request's instant, with its instrument's standing then."""

    instrument_status = serializers.ChoiceField(
        choices=InstrumentStatus.choices,
        read_only=True,
        help_text="The instrument's status at the instant asked (DESIGN §4.7).",
    )
    instrument_due_at = TimestampField(
        read_only=True, allow_null=True, help_text="Its calibration's due date at that instant."
    )

    class Meta(PlacementSerializer.Meta):
        fields = [*PlacementSerializer.Meta.fields, "instrument_status", "instrument_due_at"]
        read_only_fields = fields

    def to_representation(self, instance: Placement) -> dict[str, Any]:
        due = getattr(instance, "instrument_due_at", None)
        return {
            **super().to_representation(instance),
            "instrument_status": instance.instrument_status,  # type: ignore[attr-defined]
            "instrument_due_at": None if due is None else utc_iso(due),
        }


class PlacementCreateSerializer(serializers.Serializer[Any]):
    """The body of `POST /api/instruments/{id}/placements`."""

    room_id = StrictCharField(
        max_length=ROOM_ID_MAX_LENGTH, trim_whitespace=False, help_text="An existing room."
    )
    sensor = StrictCharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        default="",
        max_length=SENSOR_MAX_LENGTH,
        help_text="The `sensor` its readings carry (default empty: the room's unnamed sensor).",
    )
    placed_at = TimestampField(required=False, help_text="From when; default now.")

    def validate_sensor(self, value: str) -> str:
        try:
            return validate_sensor(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None


class PlacementRemoveSerializer(serializers.Serializer[Any]):
    """The body of `POST …/placements/{id}/remove` (optional)."""

    removed_at = TimestampField(required=False, help_text="Until when; default now.")


class ConflictSerializer(serializers.Serializer[Any]):
    """A 409: why, and the placement in the way."""

    detail = serializers.CharField()
    placement = PlacementSerializer()


class InstrumentReadingSerializer(ReadingSerializer):
    """A stored reading and the instrument that took it: the one placed as its (room, sensor)
    at its instant (annotated by `monitoring.selectors.with_instrument`)."""

    instrument = serializers.CharField(
        source="instrument_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the instrument placed as this sensor then; null when none was.",
    )

    class Meta(ReadingSerializer.Meta):
        fields = [*ReadingSerializer.Meta.fields, "instrument"]
        read_only_fields = fields

    def to_representation(self, instance: Measurement) -> dict[str, Any]:
        return {
            **super().to_representation(instance),
            "instrument": getattr(instance, "instrument_id", None),
        }


class ImpactPlacementSerializer(serializers.Serializer[Any]):
    """One placement of the instrument, clipped to the impact's window."""

    room_id = serializers.CharField(help_text=ROOM_ID_HELP)
    sensor = serializers.CharField()
    from_ = TimestampField(help_text="The later of the window's start and the placement's.")
    to = TimestampField(help_text="The earlier of the window's end and the placement's.")
    readings = serializers.IntegerField(help_text="Readings the instrument took in it.")
    excursions = ExcursionSerializer(
        many=True, help_text="The room's excursions in it (°C), oldest first."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        ordered = ["room_id", "sensor", "from", "to", "readings", "excursions"]
        return {name: fields[name] for name in ordered}


class ImpactAlarmSerializer(serializers.ModelSerializer[Alarm]):
    """An alarm as an impact lists it: the alarm's representation without its notifications."""

    room_id = serializers.CharField()
    opened_at = TimestampField()
    raised_at = TimestampField()
    cleared_at = TimestampField(allow_null=True)
    peak = serializers.FloatField(allow_null=True)
    acknowledged_at = TimestampField(allow_null=True)
    acknowledged_by = serializers.CharField(allow_null=True)

    class Meta:
        model = Alarm
        fields = [
            "id",
            "room_id",
            "kind",
            "opened_at",
            "raised_at",
            "cleared_at",
            "peak",
            "readings",
            "acknowledged_at",
            "acknowledged_by",
            "comment",
        ]
        read_only_fields = fields


class ImpactSerializer(serializers.Serializer[Any]):
    """What a device found out of tolerance measured since its last good calibration."""

    calibration_id = serializers.UUIDField()
    instrument = serializers.CharField(help_text="The instrument's id.")
    from_ = TimestampField(
        allow_null=True,
        help_text="The instrument's previous calibration not out of tolerance, or else its "
        "first placement; null when it has neither.",
    )
    to = TimestampField(help_text="This calibration's timestamp.")
    placements = ImpactPlacementSerializer(many=True)
    readings = serializers.IntegerField(help_text="Readings the instrument took in the window.")
    alarms = ImpactAlarmSerializer(
        many=True,
        help_text="The alarms of those rooms that overlap the time the instrument was in them.",
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        ordered = ["calibration_id", "instrument", "from", "to", "placements", "readings", "alarms"]
        return {name: fields[name] for name in ordered}

    def to_representation(self, instance: Impact) -> dict[str, Any]:
        excursion = ExcursionSerializer(context={"unit": "C"})
        return {
            "calibration_id": str(instance.calibration.pk),
            "instrument": instance.calibration.instrument_id,
            "from": None if instance.start is None else utc_iso(instance.start),
            "to": utc_iso(instance.end),
            "placements": [
                {
                    "room_id": part.placement.room_id,
                    "sensor": part.placement.sensor,
                    "from": utc_iso(part.start),
                    "to": utc_iso(part.end),
                    "readings": part.readings,
                    "excursions": [excursion.to_representation(e) for e in part.excursions],
                }
                for part in instance.placements
            ],
            "readings": instance.readings,
            "alarms": [alarm_json(alarm) for alarm in instance.alarms],
        }
