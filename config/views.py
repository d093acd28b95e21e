"""Liveness and readiness probes: no authentication, no sessions."""

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.request import Request
from rest_framework.response import Response


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers; says nothing about the database."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers a query, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "unavailable", "database": str(exc).strip()[:200]}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


class SwaggerView(SpectacularSwaggerView):
    """Swagger UI with the same opener policy as every other page.

    drf-spectacular relaxes it to `unsafe-none` for Swagger's OAuth2 pop-up; this API
    authenticates with tokens and sessions, never OAuth2, so there is no pop-up to allow.
    """

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Cross-Origin-Opener-Policy"] = "same-origin"
        return response


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever a page says: send them to the console's icon
    (resolved per request: the static manifest may not exist when urls are imported)."""
    return HttpResponsePermanentRedirect(static("console/favicon.svg"))
