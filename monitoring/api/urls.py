from config.api.routers import OptionalSlashRouter

from .views import AlarmViewSet, MonitoredRoomViewSet, NotificationTargetViewSet

app_name = "monitoring-api"

router = OptionalSlashRouter()
router.register("alarms", AlarmViewSet, basename="alarm")
router.register("notification-targets", NotificationTargetViewSet, basename="notification-target")
# Measurements' rooms route, with each room's open alarms: config/urls.py puts these routes
# before measurements' own, so this view answers `/api/rooms`.
router.register("rooms", MonitoredRoomViewSet, basename="room")

urlpatterns = router.urls
