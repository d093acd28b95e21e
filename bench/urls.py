"""The bench's URLconf (`bench.settings` only): every production route, then the floors.

The floors come after the production routes, so resolving a production path costs what it
costs in production; each floor's path is its route's path behind `/floor/` (bench/floors.py).
"""

from django.urls import URLPattern, URLResolver, re_path

from config.urls import handler400, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as production

from . import floors

_CALIBRATION = r"calibrations/(?P<calibration_id>[^/]+)"
_ROOM = r"measurements/(?P<room_id>[^/]+)"


def _floor(pattern: str) -> str:
    return rf"^{floors.PREFIX.strip('/')}/api/{pattern}/?$"


urlpatterns: list[URLPattern | URLResolver] = [
    *production,
    re_path(_floor("calibrations"), floors.calibration_dispatch),
    re_path(_floor(_CALIBRATION), floors.calibration_detail),
    re_path(_floor(_CALIBRATION + "/tags"), floors.calibration_tags),
    re_path(_floor(r"tags/(?P<tag>[^/]+)/calibrations"), floors.tag_calibrations),
    re_path(_floor(_ROOM), floors.readings_post),
    re_path(_floor(_ROOM + r"/average/(?P<window_text>[^/]+)"), floors.room_average),
    re_path(_floor(_ROOM + "/series"), floors.room_series),
]
