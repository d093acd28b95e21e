"""Middleware that keeps promises no view can: body-size limits and a JSON 503 for a lost database."""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"


class RequestBodyLimitMiddleware:
    """Refuse a body declared larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` with a JSON 413.

    DRF's parsers read the body as a stream, which Django's own limit does not watch, so
    without this a 50 MB JSON body would be read into memory whole.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse({"detail": "Malformed Content-Length header."}, status=400)
            if length > limit:
                return JsonResponse(
                    {"detail": f"The request body is {length} bytes; the limit is {limit} bytes."},
                    status=413,
                )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A JSON 503 with `Retry-After`, not an HTML 500, when the database cannot be reached.

    The API's exception handler does the same inside DRF; this covers every other view
    (the admin, the probes' neighbours) and errors raised while authenticating.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exception)
            return database_unavailable()
        return None


def database_unavailable() -> JsonResponse:
    """The answer to any request while the database is away."""
    response = JsonResponse(
        {"detail": "The database is unavailable; try again shortly."}, status=503
    )
    response["Retry-After"] = RETRY_AFTER_SECONDS
    return response
