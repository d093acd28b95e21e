"""`GET /api/`: the API root, linking the collections an integrator starts from."""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

# The snapshot route (DESIGN §4.4a) is linked by its path, not by `reverse()`, so the root does
# not depend on which app serves it or when that route is added.
SNAPSHOT_PATH = "/api/snapshot"

_LINKS = {
    "calibrations": "Calibrations, newest first; POST records one.",
    "tags": "Tags with how many calibrations carry each now.",
    "rooms": "Rooms with their last reading and open alarms.",
    "alarms": "Alarms of rooms out of range or silent, newest first.",
    "instruments": "The instrument register, soonest due first.",
    "snapshot": "Every calibration as it stood at an instant (CSV or JSON Lines).",
    "schema": "The OpenAPI 3 schema.",
    "docs": "Swagger UI.",
    "redoc": "ReDoc.",
}


class ApiRootViewSet(viewsets.ViewSet):
    """The Calibration & Measurement Service API. Each link is a collection or a document.

    Sign in with a token (`Authorization: Token <key>`) or, in a browser, with *Log in*
    (top right). Like every `/api/` route it needs a signed-in user; the schema and docs
    do not.
    """

    @extend_schema(
        summary="Links to the API's collections and documents",
        responses=inline_serializer(
            "ApiRoot",
            {name: serializers.URLField(help_text=help) for name, help in _LINKS.items()},
        ),
    )
    def root(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        paths = {
            "calibrations": reverse("calibrations-api:calibration-list"),
            "tags": reverse("tagging-api:tag-list"),
            "rooms": reverse("monitoring-api:room-list"),
            "alarms": reverse("monitoring-api:alarm-list"),
            "instruments": reverse("calibrations-api:instrument-list"),
            "snapshot": SNAPSHOT_PATH,
            "schema": reverse("schema"),
            "docs": reverse("swagger-ui"),
            "redoc": reverse("redoc"),
        }
        return Response({name: request.build_absolute_uri(path) for name, path in paths.items()})

    def get_view_name(self) -> str:
        return "API root"
