from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .rooms import RoomViewSet
from .views import MeasurementViewSet, RoomStatisticsViewSet

app_name = "measurements-api"

router = OptionalSlashRouter()
router.register("rooms", RoomViewSet, basename="room")

_ROOM = r"^measurements/(?P<room_id>[^/]+)"

urlpatterns = [
    re_path(
        _ROOM + r"/?$",
        MeasurementViewSet.as_view({"get": "list", "post": "ingest"}),
        name="room-readings",
    ),
    re_path(
        _ROOM + r"/average/(?P<duration>[^/]+)/?$",
        RoomStatisticsViewSet.as_view({"get": "average"}),
        name="room-average",
    ),
    re_path(
        _ROOM + r"/series/?$",
        RoomStatisticsViewSet.as_view({"get": "series"}),
        name="room-series",
    ),
    re_path(
        _ROOM + r"/excursions/?$",
        RoomStatisticsViewSet.as_view({"get": "excursions"}),
        name="room-excursions",
    ),
    *router.urls,
]
