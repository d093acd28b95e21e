"""Corrections of one calibration racing each other: each gets its own version number."""

from datetime import UTC, datetime

import pytest

from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create
from tests.conftest import Race
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
def test_concurrent_corrections_lose_no_version_and_leave_no_gap(race: Race) -> None:
    calibration = make()
    staff = UserFactory(username="staff")
    workers = 8

    def correct(n: int) -> set[str]:
        target = Calibration.objects.get(pk=calibration.pk)
        return calibration_correct(
            calibration=target, user=staff, reason=f"Correction {n}.", value=10.0 + n
        )

    results = race([lambda n=n: correct(n) for n in range(workers)])
    assert results == [{"value"}] * workers  # every correction changed the value it saw
    versions = list(CalibrationVersion.objects.filter(calibration=calibration).order_by("version"))
    assert [v.version for v in versions] == list(range(1, workers + 2))
    assert sorted(v.reason for v in versions[1:]) == sorted(
        f"Correction {n}." for n in range(workers)
    )
    # The stored calibration is the last version, and versions are in time order.
    assert Calibration.objects.get(pk=calibration.pk).value == versions[-1].value
    assert [v.changed_at for v in versions] == sorted(v.changed_at for v in versions)
