from config.api.routers import OptionalSlashRouter

from .views import CalibrationViewSet

app_name = "calibrations-api"

router = OptionalSlashRouter()
router.register("calibrations", CalibrationViewSet, basename="calibration")

urlpatterns = router.urls
