"""Two posters of one room at the same instant (PostgreSQL, real threads and connections): the
room's judgement row is locked while its readings are judged, so an alarm is never raised twice
(the second would break the one-active-alarm constraint and lose its poster's readings) and no
reading is lost to the race."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from measurements.models import Measurement
from measurements.services import reading_record, room_update
from monitoring.models import Alarm, RoomJudgement
from tests.conftest import Race
from tests.monitoring.conftest import T0

ROOMS = 6


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_posters_of_one_room_raise_one_alarm_and_lose_no_reading(
    race: Race, client_for: Callable[[User], APIClient], manager: User
) -> None:
    rooms = [f"race-{n}" for n in range(ROOMS)]
    for room_id in rooms:
        reading_record(room_id=room_id, value=20.0, timestamp=T0)
        room_update(room=room_id, min_c=18.0, max_c=22.0)

    def poster(room_id: str, minute: int) -> Callable[[], int]:
        def post() -> int:
            body = [
                {
                    "timestamp": (T0 + timedelta(minutes=minute, seconds=s)).isoformat(),
                    "value": 25.0,
                }
                for s in range(5)
            ]
            return int(
                client_for(manager)
                .post(f"/api/measurements/{room_id}", body, format="json")
                .status_code
            )

        return post

    statuses = race([poster(room_id, minute) for room_id in rooms for minute in (1, 2)])

    assert statuses == [201] * (2 * ROOMS)
    for room_id in rooms:
        assert Measurement.objects.filter(room_id=room_id).count() == 11
        [alarm] = Alarm.objects.filter(room_id=room_id)
        assert alarm.cleared_at is None
        judgement = RoomJudgement.objects.get(room_id=room_id)
        assert judgement.judged_until == T0 + timedelta(minutes=2, seconds=4)
        # Judged in commit order: the minute-1 batch is late when the minute-2 one went first.
        assert (alarm.opened_at, alarm.readings) in {
            (T0 + timedelta(minutes=1), 10),
            (T0 + timedelta(minutes=2), 5),
        }
