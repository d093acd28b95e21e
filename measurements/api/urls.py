from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .views import MeasurementViewSet, RoomViewSet

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
        MeasurementViewSet.as_view({"get": "average"}),
        name="room-average",
    ),
    re_path(
        _ROOM + r"/series/?$",
        MeasurementViewSet.as_view({"get": "series"}),
        name="room-series",
    ),
    *router.urls,
]
