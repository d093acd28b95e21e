from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .views import CalibrationViewSet, SnapshotViewSet

app_name = "calibrations-api"

router = OptionalSlashRouter()
router.register("calibrations", CalibrationViewSet, basename="calibration")

urlpatterns = [
    re_path(r"^snapshot/?$", SnapshotViewSet.as_view({"get": "download"}), name="snapshot"),
    *router.urls,
]
