"""Top-level routes: the admin, the API under /api/, its schema and docs, and probes."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from . import views

handler400 = "config.api.exceptions.bad_request"
handler404 = "config.api.exceptions.not_found"
handler500 = "config.api.exceptions.server_error"

api_patterns: list[URLPattern | URLResolver] = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", views.SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("", include("calibrations.api.urls")),
    path("", include("tagging.api.urls")),
    path("", include("measurements.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    re_path(r"^readyz/?$", views.readyz, name="readyz"),
]
