"""Shapes of tags and tag assignments in the API."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from config.api.fields import TimestampField

from ..models import TAG_NAME_MAX_LENGTH, Tag, TagAssignment, normalize_tag_name


class TagNameField(serializers.CharField):
    """A tag name: trimmed, 1–100 characters, no `/`, no control characters."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", TAG_NAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError("A tag name must be a string.")
        try:
            return normalize_tag_name(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class TagAssignmentSerializer(serializers.ModelSerializer[TagAssignment]):
    """One period during which a calibration carried a tag."""

    tag = serializers.CharField(source="tag.name", read_only=True)
    added_at = TimestampField(read_only=True)
    removed_at = TimestampField(read_only=True, allow_null=True)
    added_by = serializers.CharField(
        source="added_by.username", read_only=True, allow_null=True, default=None
    )
    removed_by = serializers.CharField(
        source="removed_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = TagAssignment
        fields = ["tag", "added_at", "removed_at", "added_by", "removed_by"]


class TagAddSerializer(serializers.Serializer[Any]):
    """`{"tag": "name"}` or `{"tags": ["a", "b"]}`: exactly one of the two."""

    tag = TagNameField(required=False, help_text="One tag name.")
    tags = serializers.ListField(
        child=TagNameField(),
        required=False,
        allow_empty=False,
        max_length=100,
        help_text="Several tag names (1–100).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("tag" in attrs) == ("tags" in attrs):
            raise serializers.ValidationError(
                {"detail": ['Send either "tag": "name" or "tags": ["a", "b"].']}
            )
        return attrs


class TagSerializer(serializers.ModelSerializer[Tag]):
    """A tag and how many calibrations carry it now."""

    created_at = TimestampField(read_only=True)
    active_count = serializers.IntegerField(
        read_only=True, help_text="Calibrations carrying it now."
    )

    class Meta:
        model = Tag
        fields = ["name", "created_at", "active_count"]


class TagArchiveResultSerializer(serializers.Serializer[Any]):
    """What archiving a tag did."""

    tag = serializers.CharField()
    removed = serializers.IntegerField(help_text="How many calibrations it was removed from.")
