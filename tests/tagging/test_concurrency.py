"""Racing writers on real PostgreSQL transactions: the database keeps the invariants."""

import itertools
import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tagging.models import TagAssignment
from tests.conftest import WRITER_PERMISSIONS, Race
from tests.factories import CalibrationFactory, UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def at_once(
    race: Race,
    client_for: Callable[[User], APIClient],
    workers: int,
    request: Callable[[APIClient], Any],
) -> list[Any]:
    """`request` from `workers` clients of one writer at the same instant."""
    user = UserFactory(username="racer", permissions=WRITER_PERMISSIONS)
    return race([partial(request, client_for(user)) for _ in range(workers)])


def test_two_clients_adding_the_same_tag_leave_one_active_assignment_and_no_500(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    calibration = CalibrationFactory()
    url = f"/api/calibrations/{calibration.pk}/tags"
    for _ in range(5):  # several rounds, so the race is really run
        TagAssignment.objects.all().delete()
        responses = at_once(
            race,
            client_for,
            2,
            lambda client: client.post(url, {"tag": "current-state"}, format="json"),
        )
        statuses = sorted(r.status_code for r in responses)  # type: ignore[attr-defined]
        assert statuses == [200, 201]
        bodies = [r.json() for r in responses]  # type: ignore[attr-defined]
        assert bodies[0] == bodies[1]  # the loser sees the winner's assignment
        assert TagAssignment.objects.active().filter(calibration=calibration).count() == 1


def test_many_clients_adding_and_removing_one_tag_never_overlap_periods(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    calibration = CalibrationFactory()
    url = f"/api/calibrations/{calibration.pk}/tags"

    def add_or_remove(client: APIClient) -> object:
        statuses = []
        for i in range(6):
            if i % 2 == 0:
                statuses.append(client.post(url, {"tag": "Flip"}, format="json").status_code)
            else:
                statuses.append(client.delete(f"{url}/flip").status_code)
        return statuses

    results = at_once(race, client_for, 8, add_or_remove)
    assert all(status in (200, 201, 404) for statuses in results for status in statuses)  # type: ignore[attr-defined]
    periods = list(TagAssignment.objects.filter(calibration=calibration).order_by("added_at", "id"))
    assert sum(p.removed_at is None for p in periods) <= 1
    for earlier, later in itertools.pairwise(periods):
        assert earlier.removed_at is not None
        assert earlier.removed_at <= later.added_at


def test_two_clients_creating_the_same_new_tag_in_different_cases_make_one_tag(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    first, second = CalibrationFactory(), CalibrationFactory()
    names = iter(["NewTag", "newtag"])
    lock = threading.Lock()

    def add(client: APIClient) -> object:
        with lock:
            name = next(names)
        target = first if name == "NewTag" else second
        return client.post(f"/api/calibrations/{target.pk}/tags", {"tag": name}, format="json")

    responses = at_once(race, client_for, 2, add)
    assert sorted(r.status_code for r in responses) == [201, 201]  # type: ignore[attr-defined]
    assert len({r.json()["tag"] for r in responses}) == 1  # type: ignore[attr-defined]
