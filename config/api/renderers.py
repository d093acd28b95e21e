"""The JSON renderer every API route answers with."""

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework import renderers
from rest_framework.utils.encoders import JSONEncoder

_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


class JSONRenderer(renderers.JSONRenderer):
    """DRF's compact JSON, encoded by orjson: the same bytes in a fraction of the time.

    What differs from `rest_framework.renderers.JSONRenderer` is only the encoder. Types
    orjson does not know natively (lazy translations, Decimal, …), and datetimes (so they are
    written exactly as DRF writes them, `Z` for UTC), go through DRF's own encoder. A
    non-finite float, which the database's constraints keep out of every answer, comes out as
    `null` instead of raising: NaN and Infinity are never emitted either way (STRICT_JSON).
    Indented output (the browsable API, `Accept: application/json; indent=4`) and anything
    orjson refuses (an integer beyond 64 bits) are left to DRF's renderer.
    """

    _options = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
    _default = JSONEncoder().default

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        if self.get_indent(accepted_media_type or "", renderer_context or {}) is not None:
            return bytes(super().render(data, accepted_media_type, renderer_context))
        try:
            body = orjson.dumps(data, default=self._default, option=self._options)
        except orjson.JSONEncodeError:
            return bytes(super().render(data, accepted_media_type, renderer_context))
        # As DRF does: JSON that is also a strict JavaScript subset.
        if _LINE_SEPARATOR in body or _PARAGRAPH_SEPARATOR in body:
            body = body.replace(_LINE_SEPARATOR, b"\\u2028").replace(
                _PARAGRAPH_SEPARATOR, b"\\u2029"
            )
        return body
