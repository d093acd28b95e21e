from django.urls import re_path

from config.api.routers import OptionalSlashRouter

from .views import CalibrationTagViewSet, TagViewSet

app_name = "tagging-api"

router = OptionalSlashRouter()
router.register("tags", TagViewSet, basename="tag")

_CALIBRATION = r"^calibrations/(?P<calibration_id>[^/]+)"

urlpatterns = [
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
    *router.urls,
]
