"""Races on real PostgreSQL transactions, through the HTTP API from real threads.

Each test runs its race for several rounds; `RACES_RUN` counts them for docs/RELIABILITY.md.
(The tag add/add and add/remove races live in tests/tagging/test_concurrency.py.)
"""

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from calibrations.models import Calibration
from measurements.models import Measurement, Room
from tagging.models import Tag, TagAssignment
from tests.conftest import WRITER_PERMISSIONS, Race
from tests.factories import CalibrationFactory, CalibrationTypeFactory, UserFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def racing(
    client_for: Callable[[User], APIClient],
    workers: list[Callable[[APIClient], Any]],
    permissions: list[str] = WRITER_PERMISSIONS,
) -> list[Callable[[], Any]]:
    """Each worker with a client of its own, all signed in as one user with `permissions`."""
    user = UserFactory(username="racer", permissions=permissions)
    return [partial(worker, client_for(user)) for worker in workers]


def assert_history_is_consistent(calibrations: list[Calibration], tag: str) -> None:
    """At most one active period per calibration, and the periods never overlap."""
    for calibration in calibrations:
        periods = list(
            TagAssignment.objects.filter(calibration=calibration, tag__name__iexact=tag).order_by(
                "added_at", "id"
            )
        )
        assert sum(p.removed_at is None for p in periods) <= 1
        for period in periods:
            assert period.removed_at is None or period.removed_at >= period.added_at
        for earlier, later in itertools.pairwise(periods):
            assert earlier.removed_at is not None
            assert earlier.removed_at <= later.added_at


@pytest.mark.parametrize("round_", range(3))
def test_archiving_a_tag_while_clients_add_and_remove_it_closes_each_period_exactly_once(
    round_: int, race: Race, client_for: Callable[[User], APIClient]
) -> None:
    calibrations = [CalibrationFactory() for _ in range(6)]
    urls = [f"/api/calibrations/{c.pk}/tags" for c in calibrations]

    def tagger(offset: int) -> Callable[[APIClient], Any]:
        def work(client: APIClient) -> list[tuple[str, int]]:
            done = []
            for i in range(8):
                url = urls[(offset + i) % len(urls)]
                if i % 3 == 2:
                    done.append(("delete", client.delete(f"{url}/batch").status_code))
                else:
                    status = client.post(url, {"tag": "Batch"}, format="json").status_code
                    done.append(("add", status))
            return done

        return work

    def archiver(client: APIClient) -> list[tuple[str, int, int]]:
        done = []
        for _ in range(6):
            response = client.post("/api/tags/batch/archive")
            removed = response.json().get("removed", 0) if response.status_code == 200 else 0
            done.append(("archive", response.status_code, removed))
        return done

    results = race(racing(client_for, [tagger(n) for n in range(4)] + [archiver]))

    statuses = [entry[1] for worker in results for entry in worker]
    assert set(statuses) <= {200, 201, 404}, statuses  # 404: archived/removed before it existed
    archived = sum(entry[2] for entry in results[-1])
    removed_by_delete = sum(
        1 for w in results[:-1] for kind, status in w if kind == "delete" and status == 200
    )
    closed = TagAssignment.objects.filter(removed_at__isnull=False).count()
    # Every closed period was closed by exactly one archive or one delete: none twice, none lost.
    assert closed == archived + removed_by_delete
    assert_history_is_consistent(calibrations, "batch")

    still_active = TagAssignment.objects.filter(removed_at__isnull=True).count()
    client = APIClient()
    client.force_authenticate(UserFactory(username="closer", permissions=WRITER_PERMISSIONS))
    final = client.post("/api/tags/batch/archive")
    assert final.json()["removed"] == still_active
    assert not TagAssignment.objects.filter(removed_at__isnull=True).exists()


def test_many_clients_recording_calibrations_with_the_same_new_tags_make_each_tag_once(
    race: Race, client_for: Callable[[User], APIClient]
) -> None:
    CalibrationTypeFactory(name="gain")  # transactional tests start from an empty database

    def recorder(n: int) -> Callable[[APIClient], Any]:
        def work(client: APIClient) -> list[int]:
            return [
                client.post(
                    "/api/calibrations",
                    {"calibration_type": "gain", "value": n + i, "tags": ["Fresh", "fresh-2"]},
                    format="json",
                ).status_code
                for i in range(4)
            ]

        return work

    results = race(racing(client_for, [recorder(n) for n in range(6)]))
    assert [s for statuses in results for s in statuses] == [201] * 24
    assert Calibration.objects.count() == 24
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Fresh", "fresh-2"]
    assert TagAssignment.objects.filter(removed_at__isnull=True).count() == 48


@pytest.mark.parametrize("room_id", ["race-1", "race-2"])
def test_many_sensors_posting_to_one_new_room_store_every_reading_exactly_once(
    room_id: str, race: Race, client_for: Callable[[User], APIClient]
) -> None:
    """Six sensor threads, two per sensor name, so the same readings race each other: an
    array of 200, then single posts overlapping its end and going past it."""
    url = f"/api/measurements/{room_id}"
    start = datetime(2025, 4, 1, tzinfo=UTC)

    def reading(sensor: str, i: int) -> dict[str, object]:
        stamp = (start + timedelta(seconds=i)).isoformat()
        return {"timestamp": stamp, "value": 20 + i / 100, "unit": "C", "sensor": sensor}

    def sensor_thread(k: int) -> Callable[[APIClient], Any]:
        name = f"sensor-{k % 3}"

        def work(client: APIClient) -> list[tuple[int, int, int]]:
            done = []
            batch = client.post(url, [reading(name, i) for i in range(200)], format="json")
            body = batch.json()
            done.append((batch.status_code, body.get("created", 0), body.get("duplicates", 0)))
            for i in range(190, 210):
                single = client.post(url, reading(name, i), format="json")
                created = 1 if single.status_code == 201 else 0
                done.append((single.status_code, created, 1 - created))
            return done

        return work

    sensors = [sensor_thread(k) for k in range(6)]
    results = race(racing(client_for, sensors, permissions=["measurements.add_measurement"]))

    posts = [post for thread in results for post in thread]
    assert {status for status, _, _ in posts} <= {200, 201}, posts
    distinct = 3 * 210
    assert Measurement.objects.filter(room__room_id=room_id).count() == distinct
    # Every reading was counted as created exactly once, every other post as a duplicate.
    assert sum(created for _, created, _ in posts) == distinct
    assert sum(created + duplicates for _, created, duplicates in posts) == 6 * (200 + 20)
    assert Room.objects.filter(room_id=room_id).count() == 1
