"""Monitoring's routes. `config/urls.py` includes these before measurements' own: a room's
readings list is served here, by measurements' view extended with each reading's instrument."""

from django.urls import re_path

from .views import (
    ImpactViewSet,
    InstrumentPlacementViewSet,
    InstrumentReadingViewSet,
    RoomPlacementViewSet,
)

app_name = "monitoring-api"

_INSTRUMENT = r"^instruments/(?P<instrument_id>[^/]+)"

urlpatterns = [
    re_path(
        r"^measurements/(?P<room_id>[^/]+)/?$",
        InstrumentReadingViewSet.as_view({"get": "list", "post": "ingest"}),
        name="room-readings",
    ),
    re_path(
        _INSTRUMENT + r"/placements/?$",
        InstrumentPlacementViewSet.as_view({"get": "list", "post": "create"}),
        name="instrument-placements",
    ),
    re_path(
        _INSTRUMENT + r"/placements/(?P<placement_id>[^/]+)/remove/?$",
        InstrumentPlacementViewSet.as_view({"post": "remove"}),
        name="placement-remove",
    ),
    re_path(
        r"^rooms/(?P<room_id>[^/]+)/placements/?$",
        RoomPlacementViewSet.as_view({"get": "list"}),
        name="room-placements",
    ),
    re_path(
        r"^calibrations/(?P<calibration_id>[^/]+)/impact/?$",
        ImpactViewSet.as_view({"get": "retrieve"}),
        name="calibration-impact",
    ),
]
