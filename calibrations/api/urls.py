from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .views import CalibrationViewSet, SnapshotView

app_name = "calibrations-api"

router = OptionalSlashRouter()
router.register("calibrations", CalibrationViewSet, basename="calibration")

urlpatterns = [
    re_path(r"^snapshot/?$", SnapshotView.as_view(), name="snapshot"),
    *router.urls,
]
