"""Top-level routes: the admin, the API under /api/, its schema and docs, and probes."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from . import views
from .api.root import ApiRootViewSet

handler400 = "config.api.exceptions.bad_request"
handler404 = "config.api.exceptions.not_found"
handler500 = "config.api.exceptions.server_error"

api_patterns: list[URLPattern | URLResolver] = [
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", views.SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    # First: monitoring serves the rooms list (each room's open alarms) and a room's readings
    # list (each reading's instrument) by extending measurements' views, so its routes must
    # match before measurements' own.
    path("", include("monitoring.api.urls")),
    path("", include("calibrations.api.urls")),
    path("", include("tagging.api.urls")),
    path("", include("measurements.api.urls")),
]

# DRF's sign-in for the browsable API, under DRF's namespace so every API page links to it.
# With and without the trailing slash, as every API route.
_login = auth_views.LoginView.as_view(template_name="rest_framework/login.html")
_logout = auth_views.LogoutView.as_view()
api_auth_patterns = (
    [
        # The named routes are the documented `/api-auth/login/` and `/api-auth/logout/`.
        path("login/", _login, name="login"),
        path("login", _login),
        path("logout/", _logout, name="logout"),
        path("logout", _logout),
    ],
    "rest_framework",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^api/?$", ApiRootViewSet.as_view({"get": "root"}), name="api-root"),
    path("api/", include(api_patterns)),
    path("api-auth/", include(api_auth_patterns)),
    re_path(r"^healthz/?$", views.healthz, name="healthz"),
    re_path(r"^readyz/?$", views.readyz, name="readyz"),
    # Browsers ask for /favicon.ico whatever the page says.
    path("favicon.ico", views.favicon, name="favicon"),
]
