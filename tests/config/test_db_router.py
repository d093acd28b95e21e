"""The read-replica router: which reads may go to `replica`, and that requests are marked right."""

from typing import Any

import pytest
from django.conf import settings
from django.core.cache.backends.db import DatabaseCache
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory, override_settings
from rest_framework.test import APIClient

from calibrations.models import Calibration
from config import db_router
from config.db_router import ReadOnlyRequestMiddleware, ReplicaRouter, read_only
from tests.factories import CalibrationTypeFactory

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


@pytest.mark.django_db
def test_api_reads_consult_the_router_as_read_only_and_writes_do_not(
    writer_client: APIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool]] = []

    def spy(self: ReplicaRouter, model: Any, **hints: Any) -> None:
        calls.append((model.__name__, db_router._read_only.get()))

    monkeypatch.setattr(ReplicaRouter, "db_for_read", spy)
    CalibrationTypeFactory(name="gain")
    middleware = ["config.db_router.ReadOnlyRequestMiddleware", *settings.MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware, DATABASE_ROUTERS=[ReplicaRouter()]):
        assert writer_client.get("/api/calibrations").status_code == 200
        assert ("Calibration", True) in calls
        calls.clear()
        body = {"calibration_type": "gain", "value": 1.0}
        assert writer_client.post("/api/calibrations", body, format="json").status_code == 201
        assert calls
        assert all(read_only_mark is False for _, read_only_mark in calls)
