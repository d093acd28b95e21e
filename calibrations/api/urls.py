from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .instruments import InstrumentViewSet
from .tags import CalibrationTagViewSet, TaggedCalibrationViewSet
from .views import CalibrationViewSet, SnapshotViewSet

app_name = "calibrations-api"

router = OptionalSlashRouter()
router.register("calibrations", CalibrationViewSet, basename="calibration")
router.register("instruments", InstrumentViewSet, basename="instrument")

_CALIBRATION = r"^calibrations/(?P<calibration_id>[^/]+)"

urlpatterns = [
    re_path(r"^snapshot/?$", SnapshotViewSet.as_view({"get": "download"}), name="snapshot"),
    re_path(
        _CALIBRATION + r"/tags/?$",
        CalibrationTagViewSet.as_view({"get": "as_of", "post": "add"}),
        name="calibration-tags",
    ),
    re_path(
        _CALIBRATION + r"/tags/(?P<tag>[^/]+)/?$",
        CalibrationTagViewSet.as_view({"delete": "remove"}),
        name="calibration-tag",
    ),
    re_path(
        _CALIBRATION + r"/tag-history/?$",
        CalibrationTagViewSet.as_view({"get": "history"}),
        name="calibration-tag-history",
    ),
    re_path(
        r"^tags/(?P<tag>[^/]+)/calibrations/?$",
        TaggedCalibrationViewSet.as_view({"get": "list"}),
        name="tag-calibrations",
    ),
    *router.urls,
]
