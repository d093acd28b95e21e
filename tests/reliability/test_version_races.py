"""Corrections of one calibration racing each other: each gets its own version number."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create
from tests.factories import CalibrationTypeFactory, UserFactory

# In tests/reliability with the other races: a transactional test empties the tables when it
# ends, and the browser tests (tests/e2e), which run before, need the data migrations' rows.


def make() -> Calibration:
    return calibration_create(
        calibration_type=CalibrationTypeFactory(name="gain"),
        value=1.5,
        username="alice",
        timestamp=datetime(2025, 4, 1, 10, tzinfo=UTC),
    )


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_corrections_lose_no_version_and_leave_no_gap() -> None:
    calibration = make()
    staff = UserFactory(username="staff")
    workers = 8
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def correct(n: int) -> None:
        try:
            barrier.wait(timeout=20)
            target = Calibration.objects.get(pk=calibration.pk)
            calibration_correct(
                calibration=target, user=staff, reason=f"Correction {n}.", value=10.0 + n
            )
        except BaseException as exc:  # raised in the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=correct, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    versions = list(CalibrationVersion.objects.filter(calibration=calibration).order_by("version"))
    assert [v.version for v in versions] == list(range(1, workers + 2))
    assert sorted(v.reason for v in versions[1:]) == sorted(
        f"Correction {n}." for n in range(workers)
    )
    # The stored calibration is the last version, and versions are in time order.
    assert Calibration.objects.get(pk=calibration.pk).value == versions[-1].value
    assert [v.changed_at for v in versions] == sorted(v.changed_at for v in versions)
