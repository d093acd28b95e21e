"""Alarms, targets and the outbox in the console: lists that stay fast, an alarm's page with its
notifications, acknowledging with a comment, targets whose secrets never reach a page."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from measurements.models import Room
from measurements.services import reading_record, room_update
from monitoring.models import Alarm, Notification, NotificationTarget
from monitoring.services import target_create
from tests.monitoring.conftest import T0

pytestmark = pytest.mark.django_db

SECRET_URL = "jsons://bot:hunter2-secret@hooks.example.org/lab?token=tok-secret-9"


def high_alarm(room_id: str = "lab-1") -> Alarm:
    reading_record(room_id=room_id, value=20.0, timestamp=T0)
    room_update(room=room_id, min_c=18.0, max_c=22.0)
    reading_record(room_id=room_id, value=25.0, timestamp=T0 + timedelta(minutes=1))
    return Alarm.objects.get(room_id=room_id)


def test_the_alarm_list_filters_by_room_kind_and_state_in_a_fixed_number_of_queries(
    admin_client: Client,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(15):
        high_alarm(f"room-{n:02d}")
    with django_assert_max_num_queries(12):
        page = admin_client.get("/admin/monitoring/alarm/").content.decode()
    assert page.count('class="console-badge console-badge-high">Active') == 15
    one = admin_client.get("/admin/monitoring/alarm/", {"room_id": "room-03"}).content.decode()
    assert one.count("console-badge-high") == 1
    none = admin_client.get("/admin/monitoring/alarm/", {"state": "closed"}).content.decode()
    assert "console-badge-high" not in none


def test_an_alarm_page_shows_its_notifications_and_acknowledges_with_a_comment(
    admin_client: Client,
) -> None:
    target_create(name="desk", url=SECRET_URL, events=["raised", "acknowledged"])
    alarm = high_alarm()
    page = admin_client.get(f"/admin/monitoring/alarm/{alarm.pk}/change/").content.decode()
    assert "Notifications (read-only)" in page
    assert "desk" in page
    assert 'id="acknowledge-alarm"' in page
    url = f"/admin/monitoring/alarm/{alarm.pk}/acknowledge/"
    response = admin_client.post(url, {"comment": "", "next": "/admin/"})
    assert response.status_code == 302
    assert Alarm.objects.get().acknowledged_at is None
    admin_client.post(url, {"comment": "Air conditioning reset.", "next": "/admin/"})
    alarm.refresh_from_db()
    assert (alarm.acknowledged_by, alarm.comment) == ("admin", "Air conditioning reset.")
    page = admin_client.get(f"/admin/monitoring/alarm/{alarm.pk}/change/").content.decode()
    assert 'id="acknowledge-alarm"' not in page
    assert "Air conditioning reset." in page


def test_acknowledging_selected_alarms_asks_for_a_comment_first(admin_client: Client) -> None:
    alarms = [high_alarm(f"lab-{n}") for n in range(3)]
    ids = [str(a.pk) for a in alarms]
    form = {"action": "acknowledge_selected", "_selected_action": ids}
    page = admin_client.post("/admin/monitoring/alarm/", form).content.decode()
    assert "Acknowledge 3 alarm(s)?" in page
    assert not Alarm.objects.filter(acknowledged_at__isnull=False).exists()
    admin_client.post("/admin/monitoring/alarm/", {**form, "confirmed": "yes", "comment": " "})
    assert not Alarm.objects.filter(acknowledged_at__isnull=False).exists()
    admin_client.post(
        "/admin/monitoring/alarm/", {**form, "confirmed": "yes", "comment": "Checked."}
    )
    assert Alarm.objects.filter(comment="Checked.").count() == 3


def test_a_targets_secrets_never_reach_a_console_page(admin_client: Client) -> None:
    target = target_create(name="lab hook", url=SECRET_URL, events=["raised"])
    high_alarm()
    for url in (
        "/admin/monitoring/notificationtarget/",
        f"/admin/monitoring/notificationtarget/{target.pk}/change/",
        "/admin/monitoring/notification/",
        f"/admin/monitoring/alarm/{Alarm.objects.get().pk}/change/",
    ):
        page = admin_client.get(url).content.decode()
        assert "hunter2-secret" not in page, url
        assert "tok-secret-9" not in page, url
    # Saved with its masked URL unchanged, the target keeps its secrets.
    form = admin_client.get(f"/admin/monitoring/notificationtarget/{target.pk}/change/")
    shown = form.context["adminform"].form.initial["url"]
    response = admin_client.post(
        f"/admin/monitoring/notificationtarget/{target.pk}/change/",
        {"name": "lab hook", "url": shown, "enabled": "on", "events": ["raised", "cleared"]},
    )
    assert response.status_code == 302, response.content
    target.refresh_from_db()
    assert (target.url, target.events) == (SECRET_URL, ["raised", "cleared"])


def test_a_target_url_apprise_cannot_parse_is_refused_in_the_console(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/monitoring/notificationtarget/add/",
        {"name": "broken", "url": "nosuchscheme://x", "events": ["raised"]},
    )
    assert response.status_code == 200
    assert "Apprise cannot send to this URL" in response.content.decode()
    assert not NotificationTarget.objects.exists()


def test_the_index_opens_with_open_alarms_and_acknowledges_one_from_there(
    admin_client: Client,
) -> None:
    older = high_alarm("lab-1")
    newer = high_alarm("lab-2")
    page = admin_client.get("/admin/").content.decode()
    assert 'id="attention-alarms"' in page
    # Newest first, each with its own comment box.
    assert page.index(f'id="open-alarm-{newer.pk}"') < page.index(f'id="open-alarm-{older.pk}"')
    response = admin_client.post(
        f"/admin/monitoring/alarm/{older.pk}/acknowledge/",
        {"comment": "Checked the thermostat.", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    older.refresh_from_db()
    assert (older.acknowledged_by, older.comment) == ("admin", "Checked the thermostat.")
    page = admin_client.get("/admin/").content.decode()
    assert "acknowledged by admin" in page  # still open: active, though acknowledged


def test_the_index_lists_notifications_that_gave_up(admin_client: Client) -> None:
    target_create(name="pager", url=SECRET_URL, events=["raised"])
    high_alarm()
    Notification.objects.update(state="failed", attempts=8, last_error="hunter2-secret refused")
    page = admin_client.get("/admin/").content.decode()
    assert 'id="attention-notifications"' in page
    assert "pager" in page
    assert "*** refused" in page
    assert "hunter2-secret" not in page


def test_the_index_costs_a_query_per_panel(
    admin_client: Client,
    django_assert_max_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    for n in range(12):
        high_alarm(f"room-{n:02d}")
    # The session and its user; each panel's one query (instruments, alarms, notifications).
    with django_assert_max_num_queries(6):
        assert admin_client.get("/admin/").status_code == 200


def test_a_rooms_page_lists_its_alarms_and_sets_its_alarm_rules(admin_client: Client) -> None:
    alarm = high_alarm()
    page = admin_client.get("/admin/measurements/room/lab-1/change/").content.decode()
    assert 'id="room-alarms"' in page
    assert f"#{alarm.pk} High" in page
    form = admin_client.get("/admin/measurements/room/lab-1/change/").context["adminform"].form
    data = {**form.initial, "alarm_delay": "15m", "alarm_deadband_c": "0.5"}
    data = {
        k: ("on" if v is True else "" if v is None or v is False else v) for k, v in data.items()
    }
    data["alarms_enabled"] = "on"
    response = admin_client.post("/admin/measurements/room/lab-1/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    room = Room.objects.get(pk="lab-1")
    assert (room.alarm_delay, room.alarm_deadband_c) == (timedelta(minutes=15), 0.5)
    bad = admin_client.post(
        "/admin/measurements/room/lab-1/change/", {**data, "alarm_delay": "-5m"}
    )
    assert bad.status_code == 200
    assert "alarm_delay" in bad.context["adminform"].form.errors


def test_a_rooms_page_acknowledges_its_alarm_with_a_comment_and_comes_back(
    admin_client: Client,
) -> None:
    alarm = high_alarm()
    page_url = "/admin/measurements/room/lab-1/change/"
    page = admin_client.get(page_url).content.decode()
    action = f"/admin/monitoring/alarm/{alarm.pk}/acknowledge/"
    assert f'action="{action}"' in page
    blank = admin_client.post(action, {"comment": "  ", "next": page_url})
    assert blank.status_code == 302
    assert Alarm.objects.get().acknowledged_at is None
    done = admin_client.post(action, {"comment": "Door closed.", "next": page_url})
    assert done["Location"] == page_url
    alarm.refresh_from_db()
    assert (alarm.acknowledged_by, alarm.comment) == ("admin", "Door closed.")
    page = admin_client.get(page_url).content.decode()
    assert f'action="{action}"' not in page
    assert "admin: Door closed." in page


def test_a_rooms_page_offers_no_acknowledging_without_the_permission(
    client: Client, django_user_model: type
) -> None:
    high_alarm()
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_room", "change_room", "view_alarm"])
    )
    client.force_login(viewer)
    page = client.get("/admin/measurements/room/lab-1/change/").content.decode()
    assert 'id="room-alarms"' in page
    assert "/acknowledge/" not in page
