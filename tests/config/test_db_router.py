"""The read-replica router: which reads may go to `replica`, and that requests are marked right."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings

from calibrations.models import Calibration
from config import db_router
from config.db_router import ReadOnlyRequestMiddleware, ReplicaRouter, read_only
from tests.config.test_deployment import run_python

WITH_REPLICA = {**settings.DATABASES, "replica": {**settings.DATABASES["default"]}}


def test_without_a_replica_every_read_goes_to_the_primary() -> None:
    with read_only():
        assert ReplicaRouter().db_for_read(Calibration) is None


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@override_settings(DATABASES=WITH_REPLICA)
def test_with_a_replica_only_the_reads_of_read_only_requests_go_to_it() -> None:
    router = ReplicaRouter()
    assert router.db_for_read(Calibration) is None
    with read_only():
        assert router.db_for_read(Calibration) == "replica"
        assert router.db_for_write(Calibration) == "default"
    assert router.db_for_read(Calibration) is None
    assert router.allow_migrate("default", "calibrations") is True
    assert router.allow_migrate("replica", "calibrations") is False


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@override_settings(DATABASES=WITH_REPLICA)
def test_the_database_cache_is_read_on_the_primary_even_in_a_read_only_request() -> None:
    # The API throttle counts there: a lagging replica would let a user past the limit.
    cache_table = DatabaseCache("django_cache", {}).cache_model_class
    with read_only():
        assert ReplicaRouter().db_for_read(cache_table) is None
        assert ReplicaRouter().db_for_write(cache_table) == "default"


@pytest.mark.parametrize(
    ("method", "path", "marked"),
    [
        ("get", "/api/calibrations", True),
        ("head", "/api/tags/x/calibrations", True),
        ("options", "/api/calibrations", True),
        ("post", "/api/calibrations", False),
        ("delete", "/api/calibrations/x/tags/y", False),
        ("get", "/admin/calibrations/calibration/", False),
    ],
)
def test_the_middleware_marks_only_read_only_requests_outside_the_admin(
    method: str, path: str, marked: bool
) -> None:
    seen = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(db_router._read_only.get())
        return HttpResponse()

    ReadOnlyRequestMiddleware(view)(getattr(RequestFactory(), method)(path))
    assert seen == [marked]
    assert db_router._read_only.get() is False  # the mark does not outlive the request


# Run in a fresh process: the replica is configured by `DATABASE_REPLICA_URL` when the settings
# load. Primary and replica are two SQLite files; the replica starts as a copy of the primary (what
# streaming replication gives), then holds one calibration the primary does not, so every answer
# shows which database it was read from.
REPLICA_SCRIPT = """
import json, shutil, sys
import django
django.setup()
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from calibrations.models import Calibration, CalibrationType
from tests.factories import UserFactory

primary, replica = sys.argv[1:3]
call_command("migrate", verbosity=0)
root = UserFactory(username="root", is_staff=True, is_superuser=True)
key = Token.objects.create(user=root).key
# SQLite runs in WAL mode: the primary's recent pages are in its -wal file until a checkpoint.
from django.db import connection
connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
shutil.copyfile(primary, replica)
Calibration.objects.using("replica").create(
    calibration_type=CalibrationType.objects.using("replica").get(name="gain"),
    value=1.0,
    username="only-on-replica",
)
api = Client(HTTP_AUTHORIZATION="Token " + key)
read = api.get("/api/calibrations").json()["results"]
created = api.post(
    "/api/calibrations", {"calibration_type": "gain", "value": 2.0, "username": "new"},
    content_type="application/json",
)
staff = Client()
staff.force_login(root)
admin_page = staff.get("/admin/calibrations/calibration/").content.decode()
print(json.dumps({
    "routers": settings.DATABASE_ROUTERS,
    "api_read": [c["username"] for c in read],
    "created": created.status_code,
    "primary": sorted(Calibration.objects.using("default").values_list("username", flat=True)),
    "replica": sorted(Calibration.objects.using("replica").values_list("username", flat=True)),
    "admin_shows_replica_only_row": "only-on-replica" in admin_page,
}))
"""


def test_with_a_replica_api_reads_come_from_it_and_writes_and_the_admin_use_the_primary(
    tmp_path: Path,
) -> None:
    primary, replica = tmp_path / "primary.sqlite3", tmp_path / "replica.sqlite3"
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{primary}",
        "DATABASE_REPLICA_URL": f"sqlite:///{replica}",
        "API_THROTTLE_RATE": "off",
    }
    result = run_python(env, "-c", REPLICA_SCRIPT, str(primary), str(replica))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["routers"] == ["config.db_router.ReplicaRouter"]
    assert seen["api_read"] == ["only-on-replica"]  # a GET reads the replica
    assert seen["created"] == 201
    assert seen["primary"] == ["new"]  # the POST wrote to the primary, not the replica
    assert seen["replica"] == ["only-on-replica"]
    assert seen["admin_shows_replica_only_row"] is False  # staff read the primary
