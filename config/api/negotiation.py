"""Content negotiation of every API route."""

from collections.abc import Iterable
from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from .query import blank_parameters

# What JSON clients (curl, scripts, sensors) send: nothing to weigh between renderers.
_JSON_ACCEPTS = frozenset({None, "", "*/*", "application/json"})


class JSONFirstContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, answered at once when the client asks for JSON or for anything.

    For those Accept headers DRF's own negotiation picks the first renderer, JSON, after
    parsing the header and walking every renderer's media type on each request; a browser's
    Accept header (text/html first), a `?format=` override or a format suffix still go through
    DRF's full negotiation, so the browsable API answers browsers as before.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        # DRF's `?format=` override, given empty, is a bad value (DESIGN §4.1), not "none".
        blank = blank_parameters(request.query_params, [self.settings.URL_FORMAT_OVERRIDE])
        if blank:
            raise ValidationError(blank)
        renderers = list(renderers)
        first = renderers[0]
        if (
            format_suffix is None
            and first.media_type == "application/json"
            and request.META.get("HTTP_ACCEPT") in _JSON_ACCEPTS
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        selected: Any = super().select_renderer(request, renderers, format_suffix)
        return selected
