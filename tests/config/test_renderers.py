"""The orjson renderer writes what DRF's JSON renderer writes, and never NaN."""

import json
import math
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail
from rest_framework.serializers import Serializer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from config.api.renderers import JSONRenderer

PAYLOADS = [
    {
        "calibration_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "value": 21.123456789,
        "count": 2**62,
        "when": datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC),
        "whole_second": datetime(2025, 4, 1, 10, 0, tzinfo=UTC),
        "offset": datetime(2025, 4, 1, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        "day": date(2025, 4, 1),
        "amount": Decimal("1.25"),
        "name": "Größe µ ✓ — 温度",
        "separators": "a\u2028b\u2029c",
        "nothing": None,
        "flags": [True, False],
        1: "an integer key",
    },
    ReturnDict({"detail": ErrorDetail("Not found.", code="not_found")}, serializer=Serializer()),
    ReturnList([{"tags": ["b", "a"]}, {"tags": []}], serializer=Serializer()),
    {"message": gettext_lazy("This field is required.")},
    [],
    "text",
    {"huge": 2**70},  # beyond orjson's 64 bits: DRF's renderer writes it
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_writes_the_bytes_drf_writes(payload: object) -> None:
    assert JSONRenderer().render(payload) == renderers.JSONRenderer().render(payload)


@pytest.mark.parametrize("number", [1.5e-7, 1.7976931348623157e308, 5e-324, 1e16, -0.0, 0.1])
def test_floats_read_back_as_the_same_numbers(number: float) -> None:
    # orjson writes exponents without DRF's zero padding (`1.5e-7`, not `1.5e-07`).
    body = JSONRenderer().render({"value": number})
    assert json.loads(body) == json.loads(renderers.JSONRenderer().render({"value": number}))
    assert json.loads(body)["value"] == number


def test_nothing_renders_to_an_empty_body() -> None:
    assert JSONRenderer().render(None) == b""


def test_indented_output_for_the_browsable_api_is_drfs() -> None:
    payload = {"a": [1, 2], "b": "c"}
    context = {"indent": 4}
    assert JSONRenderer().render(payload, "application/json", context) == (
        renderers.JSONRenderer().render(payload, "application/json", context)
    )
    indented = JSONRenderer().render(payload, "application/json; indent=2")
    assert indented == b'{\n  "a": [\n    1,\n    2\n  ],\n  "b": "c"\n}'


@pytest.mark.parametrize("number", [math.nan, math.inf, -math.inf])
def test_never_writes_nan_or_infinity(number: float) -> None:
    body = JSONRenderer().render({"value": number})
    assert b"NaN" not in body
    assert b"Infinity" not in body
    assert body == b'{"value":null}'
