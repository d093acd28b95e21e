"""Shapes of calibrations in the API: one for reading, one for creating."""

from typing import Any

from django.contrib.auth.models import User
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.fields import FiniteFloatField, StrictCharField, TimestampField
from tagging.api.serializers import TagNameField

from ..models import Calibration, CalibrationType


def tag_sort_key(name: str) -> tuple[str, str]:
    """Case-insensitive order of tag names, with a stable tie-break."""
    return (name.casefold(), name)


class CalibrationSerializer(serializers.ModelSerializer[Calibration]):
    """A calibration with the names of the tags it carried at the request's as-of instant."""

    calibration_id = serializers.UUIDField(source="id", read_only=True)
    calibration_type = serializers.CharField(source="calibration_type.name", read_only=True)
    timestamp = TimestampField(read_only=True)
    created_at = TimestampField(read_only=True)
    tags = serializers.SerializerMethodField(help_text="Tags carried as of the request, sorted.")

    class Meta:
        model = Calibration
        fields = [
            "calibration_id",
            "calibration_type",
            "value",
            "timestamp",
            "username",
            "tags",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, calibration: Calibration) -> list[str]:
        # `assignments_as_of` is prefetched by `Calibration.objects.for_api(as_of=…)`.
        names = [assignment.tag.name for assignment in calibration.assignments_as_of]  # type: ignore[attr-defined]
        return sorted(names, key=tag_sort_key)


class CalibrationCreateSerializer(serializers.Serializer[Any]):
    """The body of `POST /api/calibrations`."""

    calibration_type = StrictCharField(
        max_length=50, help_text="Name of an existing calibration type, e.g. `gain`."
    )
    value = FiniteFloatField(help_text="A finite JSON number.")
    timestamp = TimestampField(required=False, help_text="When it was done; default now.")
    username = StrictCharField(
        required=False,
        min_length=1,
        max_length=150,
        help_text="Who did it; default the signed-in user's username.",
    )
    tags = serializers.ListField(
        child=TagNameField(), required=False, max_length=100, help_text="Tags to add at creation."
    )

    def validate_calibration_type(self, name: str) -> CalibrationType:
        try:
            return CalibrationType.objects.get(name=name)
        except CalibrationType.DoesNotExist:
            allowed = ", ".join(CalibrationType.objects.values_list("name", flat=True))
            raise serializers.ValidationError(
                f"Unknown calibration type '{name}'. Allowed: {allowed}."
            ) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "username" not in attrs:
            user: User = self.context["request"].user
            attrs["username"] = user.get_username()
        return attrs
