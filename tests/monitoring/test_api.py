"""`/api/alarms`, `/api/notification-targets` and the rooms' `open_alarms` (DESIGN §4.8)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from measurements.services import reading_record, room_update
from monitoring.models import Alarm, Notification, NotificationTarget
from monitoring.services import alarm_acknowledge, no_data_sweep, target_create
from tests.factories import UserFactory
from tests.monitoring.conftest import T0

pytestmark = pytest.mark.django_db


def high_alarm(room_id: str = "lab-1", minutes: int = 1) -> Alarm:
    """A room with the range 18–22 °C whose reading of 25 °C raised a high alarm."""
    reading_record(room_id=room_id, value=20.0, timestamp=T0)
    room_update(room=room_id, min_c=18.0, max_c=22.0)
    reading_record(room_id=room_id, value=25.0, timestamp=T0 + timedelta(minutes=minutes))
    return Alarm.objects.get(room_id=room_id, cleared_at__isnull=True)


def test_an_alarm_shows_its_lifecycle_and_its_notifications(reader_client: APIClient) -> None:
    target_create(name="desk", url="json://user:pw@127.0.0.1:9/desk", events=["raised"])
    alarm = high_alarm()
    body = reader_client.get(f"/api/alarms/{alarm.pk}").json()
    assert body == {
        "id": alarm.pk,
        "room_id": "lab-1",
        "kind": "high",
        "opened_at": "2025-04-01T10:01:00Z",
        "raised_at": body["raised_at"],
        "cleared_at": None,
        "peak": 25.0,
        "readings": 1,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "comment": "",
        "notifications": [
            {
                "target": "desk",
                "event": "raised",
                "state": "pending",
                "attempts": 0,
                "sent_at": None,
                "last_error": "",
            }
        ],
    }


def test_unknown_or_malformed_alarm_ids_are_404(reader_client: APIClient) -> None:
    for raw in ("999", "abc", "-1", "1.5", "9" * 40):
        assert reader_client.get(f"/api/alarms/{raw}").status_code == 404, raw


def test_alarms_are_listed_newest_first_and_filtered(reader_client: APIClient) -> None:
    first = high_alarm("lab-1")
    second = high_alarm("lab-2")
    reading_record(room_id="lab-1", value=20.0, timestamp=T0 + timedelta(minutes=2))  # clears
    silent = no_data_sweep(now=T0 + timedelta(days=1), stale_after=timedelta(minutes=15))
    alarm_acknowledge(alarm=second, username="alice", comment="Door shut.")

    def ids(**query: str) -> list[int]:
        response = reader_client.get("/api/alarms", query)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["results"]]

    alarms = sorted([first, second, *silent], key=lambda a: (a.raised_at, a.pk))
    assert ids() == [a.pk for a in reversed(alarms)]
    silent_lab_2 = next(a for a in silent if a.room_id == "lab-2")
    # The sweep ran for a day later, at a `now` in 2025: its alarms were raised before.
    assert ids(room_id="lab-2") == [second.pk, silent_lab_2.pk]
    assert set(ids(kind="no_data")) == {a.pk for a in silent}
    assert first.pk not in ids(state="active")
    assert second.pk in ids(state="active")
    assert second.pk not in ids(state="unacknowledged")
    assert first.pk in ids(state="open")  # cleared, but nobody acknowledged it
    assert ids(state="closed") == []
    alarm_acknowledge(alarm=first, username="alice", comment="Seen.")
    assert ids(state="closed") == [first.pk]
    assert ids(raised_after="2100-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "query",
    [
        {"state": "sleeping"},
        {"kind": "warm"},
        {"raised_after": "yesterday"},
        {"state": ""},
        {"room_id": ""},
        {"page_size": "0"},
    ],
)
def test_a_bad_filter_is_a_400(reader_client: APIClient, query: dict[str, str]) -> None:
    response = reader_client.get("/api/alarms", query)
    assert response.status_code == 400
    assert response.json()


def test_the_alarms_list_is_six_queries_whatever_the_page_size(
    reader_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    target_create(name="desk", url="json://127.0.0.1:9/desk", events=["raised", "cleared"])
    for n in range(12):
        high_alarm(f"room-{n:02d}")
    # 1. the token; 2.–3. its permissions (the sensor rule); 4. the page of alarms;
    # 5. their notifications; 6. those notifications' targets.
    with django_assert_max_num_queries(6):
        response = reader_client.get("/api/alarms", {"page_size": 12})
    assert len(response.json()["results"]) == 12
    assert all(len(a["notifications"]) == 1 for a in response.json()["results"])


# --- acknowledging ---------------------------------------------------------------------------


def test_acknowledging_records_who_when_and_why_and_does_not_clear(
    client_for: Callable[[User], APIClient],
) -> None:
    alarm = high_alarm()
    alice = UserFactory(username="alice", permissions=["monitoring.change_alarm"])
    client = client_for(alice)
    response = client.post(
        f"/api/alarms/{alarm.pk}/acknowledge", {"comment": "  Door closed.  "}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["acknowledged_by"], body["comment"], body["cleared_at"]) == (
        "alice",
        "Door closed.",
        None,
    )
    assert body["acknowledged_at"] is not None
    again = client.post(f"/api/alarms/{alarm.pk}/acknowledge", {"comment": "x"}, format="json")
    assert again.status_code == 409
    assert "alice" in again.json()["detail"]
    assert Alarm.objects.get().comment == "Door closed."


@pytest.mark.parametrize("body", [{}, {"comment": ""}, {"comment": "   "}, {"comment": 5}, []])
def test_acknowledging_needs_a_comment(manager_client: APIClient, body: Any) -> None:
    alarm = high_alarm()
    response = manager_client.post(f"/api/alarms/{alarm.pk}/acknowledge", body, format="json")
    assert response.status_code == 400
    assert Alarm.objects.get().acknowledged_at is None


def test_acknowledging_needs_change_alarm(reader_client: APIClient) -> None:
    alarm = high_alarm()
    response = reader_client.post(
        f"/api/alarms/{alarm.pk}/acknowledge", {"comment": "ok"}, format="json"
    )
    assert response.status_code == 403
    assert Alarm.objects.get().acknowledged_at is None


def test_acknowledging_is_announced_to_the_targets_that_hear_of_it(
    manager_client: APIClient,
) -> None:
    target_create(name="desk", url="json://127.0.0.1:9/desk", events=["acknowledged"])
    target_create(name="pager", url="json://127.0.0.1:9/pager", events=["raised"])
    alarm = high_alarm()
    manager_client.post(f"/api/alarms/{alarm.pk}/acknowledge", {"comment": "ok"}, format="json")
    assert list(Notification.objects.values_list("target__name", "event").order_by("id")) == [
        ("pager", "raised"),
        ("desk", "acknowledged"),
    ]


# --- rooms' open alarms ----------------------------------------------------------------------


def test_a_room_says_how_many_of_its_alarms_are_open(reader_client: APIClient) -> None:
    alarm = high_alarm()
    reading_record(room_id="lab-1", value=20.0, timestamp=T0 + timedelta(minutes=2))
    reading_record(room_id="lab-1", value=15.0, timestamp=T0 + timedelta(minutes=3))
    reading_record(room_id="lab-2", value=20.0, timestamp=T0)
    rooms = {r["room_id"]: r for r in reader_client.get("/api/rooms").json()["results"]}
    # The cleared high alarm, not acknowledged, and the active low one.
    assert rooms["lab-1"]["open_alarms"] == 2
    assert rooms["lab-2"]["open_alarms"] == 0
    alarm_acknowledge(alarm=alarm, username="alice", comment="Seen.")
    assert reader_client.get("/api/rooms/lab-1").json()["open_alarms"] == 1


def test_the_rooms_list_with_open_alarms_stays_one_query_per_page(
    reader_client: APIClient,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(10):
        high_alarm(f"room-{n:02d}")
    # 1. the token; 2.–3. its permissions; 4. the page, each room's status and open alarms.
    with django_assert_max_num_queries(4):
        response = reader_client.get("/api/rooms", {"page_size": 10})
    assert [r["open_alarms"] for r in response.json()["results"]] == [1] * 10


# --- notification targets --------------------------------------------------------------------

HOOK = "jsons://user:s3cr3t-pass@hooks.example.org/alarms?token=t0k3n-value"


def test_a_target_is_created_and_shown_with_its_secrets_masked(manager_client: APIClient) -> None:
    response = manager_client.post(
        "/api/notification-targets",
        {"name": "Lab hook", "url": HOOK, "events": ["cleared", "raised"], "rooms": []},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["url"] == "jsons://user:***@hooks.example.org/alarms?token=***"
    assert (body["name"], body["enabled"], body["rooms"], body["events"]) == (
        "Lab hook",
        True,
        [],
        ["raised", "cleared"],
    )
    target = NotificationTarget.objects.get()
    assert target.url == HOOK
    for answer in (
        manager_client.get("/api/notification-targets").content,
        manager_client.get(f"/api/notification-targets/{target.pk}").content,
    ):
        assert b"s3cr3t-pass" not in answer
        assert b"t0k3n-value" not in answer


def test_a_target_changed_with_its_masked_url_keeps_its_secrets(manager_client: APIClient) -> None:
    target = target_create(name="hook", url=HOOK, events=["raised"])
    shown = manager_client.get(f"/api/notification-targets/{target.pk}").json()
    response = manager_client.patch(
        f"/api/notification-targets/{target.pk}",
        {"url": shown["url"], "enabled": False, "rooms": []},
        format="json",
    )
    assert response.status_code == 200, response.content
    target.refresh_from_db()
    assert (target.url, target.enabled) == (HOOK, False)


def test_a_target_for_some_rooms_hears_only_of_them(manager_client: APIClient) -> None:
    reading_record(room_id="lab-1", value=20.0, timestamp=T0)
    response = manager_client.post(
        "/api/notification-targets",
        {
            "name": "lab-1 only",
            "url": "json://127.0.0.1:9/x",
            "events": ["raised"],
            "rooms": ["lab-1"],
        },
        format="json",
    )
    assert response.json()["rooms"] == ["lab-1"]
    high_alarm("lab-2", minutes=5)
    assert not Notification.objects.exists()
    room_update(room="lab-1", min_c=18.0, max_c=22.0)
    reading_record(room_id="lab-1", value=25.0, timestamp=T0 + timedelta(minutes=1))
    assert Notification.objects.get().alarm.room_id == "lab-1"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "url": "not a url"}, "url"),
        ({"name": "x", "url": "nosuchscheme://host/path"}, "url"),
        ({"name": "x", "url": ""}, "url"),
        ({"name": "x", "url": "json://h/x", "events": ["exploded"]}, "events"),
        ({"name": "x", "url": "json://h/x", "events": "raised"}, "events"),
        ({"name": "x", "url": "json://h/x", "rooms": ["nowhere"]}, "rooms"),
        ({"name": "", "url": "json://h/x"}, "name"),
        ({"url": "json://h/x"}, "name"),
        ({"name": "taken", "url": "json://h/x"}, "name"),
    ],
)
def test_a_bad_target_is_a_400_naming_the_field_and_stores_nothing(
    manager_client: APIClient, body: dict[str, Any], field: str
) -> None:
    target_create(name="taken", url="json://h/taken")
    response = manager_client.post("/api/notification-targets", body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert NotificationTarget.objects.count() == 1


def test_reading_targets_needs_their_view_permission(
    reader_client: APIClient, manager_client: APIClient
) -> None:
    target_create(name="hook", url=HOOK)
    assert reader_client.get("/api/notification-targets").status_code == 403
    assert manager_client.get("/api/notification-targets").status_code == 200
