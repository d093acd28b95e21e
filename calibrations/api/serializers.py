"""Shapes of calibrations in the API: one for reading, one for creating."""

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Manager
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import FiniteFloatField, StrictCharField, TimestampField, utc_iso
from config.api.query import QuerySerializer
from tagging.api.serializers import TagNameField
from tagging.selectors import tag_names_by_calibration

from ..models import (
    INSTRUMENT_ID_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    Calibration,
    CalibrationType,
    CalibrationVersion,
    validate_finite,
    validate_instrument_id,
    validate_username,
)


def tags_as_of(context: dict[str, Any]) -> datetime:
    """The instant whose tags a representation shows: the context's `as_of`, default now."""
    as_of: datetime | None = context.get("as_of")
    return as_of or timezone.now()


class CalibrationListSerializer(serializers.ListSerializer[Calibration]):
    """A page of calibrations: the tags of all its rows come from one query."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        calibrations = list(data.all() if isinstance(data, Manager) else data)
        names = tag_names_by_calibration(
            [calibration.pk for calibration in calibrations], as_of=tags_as_of(self.context)
        )
        child: CalibrationSerializer = self.child  # type: ignore[assignment]
        return [child.represent(c, names[c.pk]) for c in calibrations]


class CalibrationSerializer(serializers.ModelSerializer[Calibration]):
    """A calibration with the names of the tags it carried at the request's as-of instant.

    Context: `as_of` (default now) picks the instant; `tag_names`, when the caller already
    knows them (a calibration just created), saves the query for one calibration.
    """

    calibration_id = serializers.UUIDField(source="id", read_only=True)
    calibration_type = serializers.CharField(source="calibration_type.name", read_only=True)
    timestamp = TimestampField(read_only=True)
    created_at = TimestampField(read_only=True)
    tags = serializers.SerializerMethodField(help_text="Tags carried as of the request, sorted.")
    instrument = serializers.CharField(
        source="instrument_id",
        read_only=True,
        allow_null=True,
        help_text="The id of the instrument calibrated; null when none was named.",
    )
    in_tolerance = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Whether the value was within its type's limits (bounds inclusive) when it "
        "was written; null when the type had no limits.",
    )

    class Meta:
        model = Calibration
        list_serializer_class = CalibrationListSerializer
        fields = [
            "calibration_id",
            "calibration_type",
            "value",
            "timestamp",
            "username",
            "tags",
            "created_at",
            "instrument",
            "in_tolerance",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, calibration: Calibration) -> list[str]:
        # Only the schema reads this field: `to_representation` fills `tags` itself.
        return self._tag_names(calibration)

    def _tag_names(self, calibration: Calibration) -> list[str]:
        known: list[str] | None = self.context.get("tag_names")
        if known is not None:
            return known
        return tag_names_by_calibration([calibration.pk], as_of=tags_as_of(self.context))[
            calibration.pk
        ]

    def to_representation(self, instance: Calibration) -> dict[str, Any]:
        return self.represent(instance, self._tag_names(instance))

    def represent(self, instance: Calibration, tag_names: list[str]) -> dict[str, Any]:
        """The representation, with the tag names given.

        The fields above describe the shape (OpenAPI, the browsable API); this builds the same
        dict directly. DRF's field-by-field walk (deep-copied fields, a getattr chain and a
        timezone conversion per value) was a third of a 50-row page's CPU time.
        `test_fast_representation_matches_the_declared_fields` keeps the two equal.
        """
        return {
            "calibration_id": str(instance.pk),
            "calibration_type": instance.calibration_type.name,
            "value": instance.value,
            "timestamp": utc_iso(instance.timestamp),
            "username": instance.username,
            "tags": tag_names,
            "created_at": utc_iso(instance.created_at),
            "instrument": instance.instrument_id,
            "in_tolerance": instance.in_tolerance,
        }


class CalibrationCreateSerializer(serializers.Serializer[Any]):
    """The body of `POST /api/calibrations`."""

    calibration_type = StrictCharField(
        max_length=50, help_text="Name of an existing calibration type, e.g. `gain`."
    )
    value = FiniteFloatField(validators=[validate_finite], help_text="A finite JSON number.")
    timestamp = TimestampField(required=False, help_text="When it was done; default now.")
    username = StrictCharField(
        required=False,
        min_length=1,
        max_length=USERNAME_MAX_LENGTH,
        validators=[validate_username],
        help_text="Who did it; default the signed-in user's username.",
    )
    tags = serializers.ListField(
        child=TagNameField(), required=False, max_length=100, help_text="Tags to add at creation."
    )
    instrument = StrictCharField(
        source="instrument_id",
        required=False,
        allow_null=True,
        max_length=INSTRUMENT_ID_MAX_LENGTH,
        validators=[validate_instrument_id],
        help_text="The `instrument_id` of a registered instrument in service (optional).",
    )

    def validate_calibration_type(self, name: str) -> CalibrationType:
        try:
            return CalibrationType.objects.by_name(name)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "username" not in attrs:
            user: User = self.context["request"].user
            attrs["username"] = user.get_username()
        return attrs


class CalibrationVersionSerializer(serializers.ModelSerializer[CalibrationVersion]):
    """One recorded state of a calibration: what it said after a change, who, when and why."""

    calibration_type = serializers.CharField(source="calibration_type.name", read_only=True)
    changed_at = TimestampField(read_only=True)
    changed_by = serializers.CharField(
        read_only=True, allow_null=True, help_text="Username of who made the change."
    )
    timestamp = TimestampField(read_only=True)
    instrument = serializers.CharField(
        source="instrument_id", read_only=True, allow_null=True, help_text="The instrument's id."
    )
    in_tolerance = serializers.BooleanField(
        read_only=True, allow_null=True, help_text="As derived when this version was written."
    )

    class Meta:
        model = CalibrationVersion
        fields = [
            "version",
            "change",
            "changed_at",
            "changed_by",
            "reason",
            "calibration_type",
            "value",
            "timestamp",
            "username",
            "instrument",
            "in_tolerance",
        ]
        read_only_fields = fields


class SnapshotQuerySerializer(QuerySerializer):
    """The query parameters of `GET /api/snapshot`."""

    timestamp = TimestampField(
        required=False,
        help_text="The instant to answer for (ISO 8601; no offset means UTC). Default: now.",
    )
    tag = TagNameField(required=False, help_text="Only calibrations carrying this tag at T.")
    calibration_type = serializers.CharField(
        required=False, max_length=50, help_text="Only calibrations of this type at T."
    )
    username = serializers.CharField(
        required=False, max_length=150, help_text="Only calibrations done by this user (as of T)."
    )
    format = serializers.ChoiceField(
        choices=["jsonl", "csv"],
        required=False,
        default="jsonl",
        help_text="`jsonl` (default, one calibration per line) or `csv`. Picks the output alone.",
    )


class AsOfQuerySerializer(QuerySerializer):
    """The `timestamp` query parameter of the as-of routes (default now)."""

    timestamp = TimestampField(
        required=False,
        help_text="The instant to answer for (ISO 8601; no offset means UTC). Default: now.",
    )
