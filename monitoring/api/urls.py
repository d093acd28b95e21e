"""Monitoring's routes. `config/urls.py` includes these before measurements' own: the rooms
list (with each room's open alarms) and a room's readings list (with each reading's
instrument) are served here, by measurements' views extended."""

from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .alarms import AlarmViewSet, MonitoredRoomViewSet, NotificationTargetViewSet
from .views import (
    ImpactViewSet,
    InstrumentPlacementViewSet,
    InstrumentReadingViewSet,
    RoomPlacementViewSet,
)

app_name = "monitoring-api"

router = OptionalSlashRouter()
router.register("alarms", AlarmViewSet, basename="alarm")
router.register("notification-targets", NotificationTargetViewSet, basename="notification-target")
router.register("rooms", MonitoredRoomViewSet, basename="room")

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
    # Before the rooms router's detail route, which would take `…/placements` for an action.
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
    *router.urls,
]
