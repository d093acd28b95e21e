"""The audit trail: every create and correction is a version; `GET …/history` shows them."""

import importlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create, calibration_create_tagged
from tests.factories import CalibrationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)


def make(**fields: object) -> Calibration:
    defaults: dict[str, object] = {
        "calibration_type": CalibrationTypeFactory(name="gain"),
        "value": 1.5,
        "username": "alice",
        "timestamp": T0,
    }
    return calibration_create(**{**defaults, **fields})  # type: ignore[arg-type]


def test_a_created_calibration_has_version_1_stamped_with_its_creation() -> None:
    staff = UserFactory(username="staff")
    calibration = make(created_by=staff)
    (version,) = CalibrationVersion.objects.filter(calibration=calibration)
    assert (version.version, version.change, version.reason) == (1, "created", "")
    assert version.changed_at == calibration.created_at
    assert version.changed_by == "staff"  # who entered it, not the calibration's `username`
    assert (version.value, version.timestamp, version.username) == (1.5, T0, "alice")


def test_a_correction_adds_the_next_version_with_reason_and_who() -> None:
    calibration = make()
    staff = UserFactory(username="staff")
    changed = calibration_correct(
        calibration=calibration, user=staff, reason="Typo in the value.", value=1.25
    )
    assert changed == {"value"}
    versions = list(CalibrationVersion.objects.filter(calibration=calibration).order_by("version"))
    assert [(v.version, v.change, v.value) for v in versions] == [
        (1, "created", 1.5),
        (2, "changed", 1.25),
    ]
    assert versions[1].reason == "Typo in the value."
    assert versions[1].changed_by == "staff"
    assert versions[1].timestamp == T0  # unchanged fields are recorded as they stand
    assert Calibration.objects.get(pk=calibration.pk).value == 1.25


def test_a_correction_without_a_reason_is_refused_and_changes_nothing() -> None:
    calibration = make()
    with pytest.raises(ValidationError):
        calibration_correct(calibration=calibration, user=None, reason="  ", value=2.0)
    assert Calibration.objects.get(pk=calibration.pk).value == 1.5
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1


def test_repeating_the_stored_values_adds_no_version() -> None:
    calibration = make()
    changed = calibration_correct(
        calibration=calibration, user=None, reason="", value=1.5, timestamp=T0, username="alice"
    )
    assert changed == set()
    assert CalibrationVersion.objects.filter(calibration=calibration).count() == 1


def test_the_database_refuses_a_correction_version_without_a_reason() -> None:
    calibration = make()
    with pytest.raises(IntegrityError), transaction.atomic():
        CalibrationVersion.objects.create(
            calibration=calibration,
            version=2,
            change="changed",
            changed_at=T0,
            reason="",
            calibration_type=calibration.calibration_type,
            value=1.0,
            timestamp=T0,
            username="alice",
        )


def test_creating_with_tags_writes_version_1_in_the_same_transaction() -> None:
    created = calibration_create_tagged(
        calibration_type=CalibrationTypeFactory(name="gain"),
        value=2.0,
        username="bob",
        tags=["baseline-2025"],
    )
    assert created.calibration.versions.get().version == 1


def test_the_api_create_records_version_1_signed_by_the_token_user(
    writer_client: APIClient,
) -> None:
    CalibrationTypeFactory(name="gain")
    response = writer_client.post(
        "/api/calibrations", {"calibration_type": "gain", "value": 1.0}, format="json"
    )
    assert response.status_code == 201
    history = writer_client.get(f"/api/calibrations/{response.json()['calibration_id']}/history")
    assert history.json()[0]["changed_by"] == "writer"


@pytest.mark.parametrize("slash", ["", "/"])
def test_history_lists_every_version_oldest_first(
    reader_client: APIClient,
    slash: str,
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    calibration = make()
    staff = UserFactory(username="staff")
    calibration_correct(calibration=calibration, user=staff, reason="Wrong user.", username="bob")
    calibration_correct(calibration=calibration, user=staff, reason="Wrong value.", value=3.0)
    # Queries: the token with its user; the user's own and group permissions (the sensor
    # rule); the calibration (404 otherwise); the versions with their type.
    with django_assert_max_num_queries(5):
        response = reader_client.get(f"/api/calibrations/{calibration.pk}/history{slash}")
    assert response.status_code == 200
    body = response.json()
    assert [v["version"] for v in body] == [1, 2, 3]
    assert body[0] == {
        "version": 1,
        "change": "created",
        "changed_at": calibration.created_at.isoformat().replace("+00:00", "Z"),
        "changed_by": None,
        "reason": "",
        "calibration_type": "gain",
        "value": 1.5,
        "timestamp": "2025-04-01T10:00:00.123456Z",
        "username": "alice",
        "instrument": None,
        "in_tolerance": None,
    }
    assert (body[1]["username"], body[1]["value"], body[1]["reason"]) == ("bob", 1.5, "Wrong user.")
    assert (body[2]["username"], body[2]["value"], body[2]["changed_by"]) == ("bob", 3.0, "staff")


@pytest.mark.parametrize(
    "calibration_id", ["9b2f1c1e-0000-4000-8000-000000000000", "not-a-uuid", "1234"]
)
def test_history_of_an_unknown_or_malformed_id_is_404(
    reader_client: APIClient, calibration_id: str
) -> None:
    response = reader_client.get(f"/api/calibrations/{calibration_id}/history")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_history_needs_a_signed_in_user(api_client: APIClient) -> None:
    calibration = make()
    response = api_client.get(f"/api/calibrations/{calibration.pk}/history")
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_the_api_still_cannot_change_or_delete_a_calibration(
    method: str, client_for: Callable[[User], APIClient]
) -> None:
    calibration = make()
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    for suffix in ("", "/", "/history"):
        response = getattr(client_for(root), method)(
            f"/api/calibrations/{calibration.pk}{suffix}", {"value": 9.0}, format="json"
        )
        assert response.status_code == 405
    assert Calibration.objects.get(pk=calibration.pk).value == 1.5


def test_the_migration_gives_a_calibration_without_versions_its_version_1() -> None:
    staff = UserFactory(username="entered-by")
    # Made as before the audit trail: no service, so no version.
    gain = CalibrationTypeFactory(name="gain")
    old = Calibration.objects.create(
        calibration_type=gain, value=4.5, username="carol", timestamp=T0, created_by=staff
    )
    orphan = Calibration.objects.create(calibration_type=gain, value=1.0, username="x")
    versioned = make()
    migration = importlib.import_module("calibrations.migrations.0005_calibrationversion_backfill")
    # Not entered as a context: SQLite's editor would switch foreign keys off, which it cannot
    # do inside the test's transaction; the function only quotes names and executes SQL.
    editor = connection.schema_editor()
    migration.backfill_versions(django_apps, editor)
    migration.backfill_versions(django_apps, editor)  # again: nothing twice
    version = CalibrationVersion.objects.get(calibration=old)
    assert (version.version, version.change, version.reason) == (1, "created", "")
    assert version.changed_at == old.created_at
    assert version.changed_by == "entered-by"
    assert (version.value, version.username, version.timestamp) == (4.5, "carol", old.timestamp)
    assert CalibrationVersion.objects.get(calibration=orphan).changed_by is None
    assert CalibrationVersion.objects.filter(calibration=versioned).count() == 1
