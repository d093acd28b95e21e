"""Shapes of alarms, notification targets and the rooms' open alarms in the API."""

from typing import Any

from rest_framework import serializers

from config.api.fields import StrictCharField, TimestampField, utc_iso
from measurements.api.serializers import RoomSerializer
from measurements.models import Room

from ..delivery import alarm_json
from ..models import Alarm, AlarmKind, DeliveryState, Event, Notification, NotificationTarget
from ..notify import masked


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
