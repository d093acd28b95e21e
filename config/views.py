"""Liveness and readiness probes: no authentication, no sessions; and the pages the console
shows outside its own views (the sign-in lockout)."""

from typing import Any

from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import admin
from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.template.response import TemplateResponse
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


def login_locked_out(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """django-axes' answer to a sign-in while locked out (`AXES_LOCKOUT_CALLABLE`): the
    console's own page, saying for how long and what to do, where axes answered a bare line of
    text with no title."""
    cool_off = get_cool_off(request)
    minutes = round(cool_off.total_seconds() / 60) if cool_off else None
    context = {
        **admin.site.each_context(request),
        "title": "Sign-in locked",
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": minutes,
        "username": get_client_username(request, credentials) or "",
    }
    response = TemplateResponse(
        request,
        "admin/console/locked_out.html",
        context,
        status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
    )
    response.render()
    return response
