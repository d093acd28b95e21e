"""Every API error is JSON: DRF's errors, Django's 404s, and a database that is away."""

import logging
from typing import Any

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class Conflict(APIException):
    """409: the request is valid but the resource's state refuses it (already acknowledged,
    a period in the way); the body says what is in the way."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource's current state refuses this request."
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus a JSON 503 when the database cannot be reached."""
    response = drf_exception_handler(exc, context)
    request = context.get("request")
    if request is not None and getattr(request, "accepted_renderer", None) is None:
        # The request failed before a renderer was chosen (a bad `?format=`): DRF would answer
        # in the view's first one, YAML on the schema route; errors are JSON (DESIGN §4.1).
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    if response is not None:
        return response
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        return Response(
            {"detail": "The database is unavailable; try again shortly."},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, DatabaseError):
        logger.exception("database error")
    return None


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or request.path == "/api"


def not_found(request: HttpRequest, exception: Exception | None = None) -> Any:
    """JSON 404 under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception or Exception())


def server_error(request: HttpRequest) -> Any:
    """JSON 500 under /api/ (should never happen: every such case is a bug)."""
    if _is_api(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    from django.views.defaults import server_error as default_server_error

    return default_server_error(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> Any:
    """JSON 400 under /api/ for requests Django itself refuses (e.g. too large)."""
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    from django.views.defaults import bad_request as default_bad_request

    return default_bad_request(request, exception or Exception())
