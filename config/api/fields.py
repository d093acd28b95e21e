"""Serializer and filter fields shared by every app's API."""

import math
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .timestamps import TIMESTAMP_HELP, TimestampError, parse_timestamp


def utc_iso(moment: datetime) -> str:
    """An aware instant as `TimestampField` writes it: ISO 8601 in UTC, `Z`, microseconds kept.

    For representations built without DRF's field walk (lean `to_representation`s).
    """
    text = moment.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.DateTimeField):
    """An ISO 8601 instant in, UTC with full microseconds out."""

    def to_internal_value(self, value: Any) -> datetime:
        try:
            return parse_timestamp(value)
        except TimestampError as exc:
            raise serializers.ValidationError(str(exc)) from None


@extend_schema_field(OpenApiTypes.DOUBLE)
class FiniteFloatField(serializers.FloatField):
    """A JSON number that is finite; strings and booleans are refused, not coerced."""

    default_error_messages = {
        "invalid": "A valid finite number is required.",
        "not_a_number": "Must be a JSON number, not {type}.",
    }

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number", type=type(data).__name__ if data is not None else "null")
        try:
            number = float(data)
        except OverflowError:
            self.fail("invalid")
        if not math.isfinite(number):
            self.fail("invalid")
        return super().to_internal_value(number)


class StrictCharField(serializers.CharField):
    """A JSON string; numbers and booleans are refused, not turned into text."""

    default_error_messages = {"not_a_string": "Must be a JSON string, not {type}."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string", type=type(data).__name__ if data is not None else "null")
        return str(super().to_internal_value(data))


class TimestampFormField(forms.Field):
    """Form field behind the timestamp filters: our parser, our messages."""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        try:
            return parse_timestamp(value)
        except TimestampError as exc:
            # The message quotes the client's text; django-filter %-formats messages, so a
            # `%` in it must travel as a parameter (it was a 500).
            raise DjangoValidationError(
                "%(error)s", code="invalid", params={"error": str(exc)}
            ) from None


class TimestampFilter(filters.Filter):
    """Filter on an instant given as ISO 8601 (a `+` decoded to a space still means `+`)."""

    field_class = TimestampFormField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", TIMESTAMP_HELP)
        super().__init__(*args, **kwargs)


class StrictIntegerField(serializers.IntegerField):
    """A JSON whole number; strings, booleans and fractions are refused, not converted."""

    default_error_messages = {"not_an_integer": "Must be a JSON whole number, not {type}."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            kind = type(data).__name__ if data is not None else "null"
            self.fail("not_an_integer", type=kind)
        return int(super().to_internal_value(data))
