"""The bench's URLconf (`bench.settings` only): every production route, then the floors.

The floors come after the production routes, so resolving a production path costs what it
costs in production. Each floor's path is its route's path behind a prefix: `/floor/` for
the Django floor (bench/floors.py), `/floor-sql/` for the SQL floor (bench/floors_sql.py).
"""

from types import ModuleType

from django.urls import URLPattern, URLResolver, re_path

from config.urls import handler400, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as production

from . import floors, floors_sql

_CALIBRATION = r"calibrations/(?P<calibration_id>[^/]+)"
_ROOM = r"measurements/(?P<room_id>[^/]+)"


def _floors(module: ModuleType) -> list[URLPattern]:
    def path(pattern: str) -> str:
        return rf"^{module.PREFIX.strip('/')}/api/{pattern}/?$"

    return [
        re_path(path("calibrations"), module.calibration_dispatch),
        re_path(path(_CALIBRATION), module.calibration_detail),
        re_path(path(_CALIBRATION + "/tags"), module.calibration_tags),
        re_path(path(r"tags/(?P<tag>[^/]+)/calibrations"), module.tag_calibrations),
        re_path(path(_ROOM), module.readings_post),
        re_path(path(_ROOM + r"/average/(?P<window_text>[^/]+)"), module.room_average),
        re_path(path(_ROOM + "/series"), module.room_series),
        re_path(path(_ROOM + "/excursions"), module.room_excursions),
        re_path(path("rooms"), module.rooms_list),
        re_path(path(r"rooms/(?P<room_id>[^/]+)/range-history"), module.range_history),
        re_path(path("instruments"), module.instruments_list),
        re_path(path("alarms"), module.alarms_list),
    ]


urlpatterns: list[URLPattern | URLResolver] = [
    *production,
    *_floors(floors),
    *_floors(floors_sql),
]
