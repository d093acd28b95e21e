"""Delivery through Apprise to real local receivers (a webhook server, an SMTP server): what
arrives, retries with backoff, `failed` after the last attempt, secrets kept out of errors and
logs (DESIGN §4.8)."""

import email
import logging
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings
from django.utils import timezone

from measurements.services import reading_record, room_update
from monitoring.delivery import deliver
from monitoring.models import Alarm, Notification
from monitoring.services import target_create, target_send_test
from tests.monitoring.conftest import T0, Receiver
from tests.servers import free_port

pytestmark = pytest.mark.django_db


def raise_alarm(room_id: str = "lab-1") -> Alarm:
    reading_record(room_id=room_id, value=20.0, timestamp=T0)
    room_update(room=room_id, name="Balance room", min_c=18.0, max_c=22.0)
    reading_record(room_id=room_id, value=25.5, timestamp=T0 + timedelta(minutes=1))
    return Alarm.objects.get(room_id=room_id)


def test_a_raised_alarm_reaches_a_webhook_as_json_once_its_transaction_commits(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    target_create(name="hook", url=receiver.url, events=["raised"])
    with django_capture_on_commit_callbacks(execute=True):
        alarm = raise_alarm()
    [body] = receiver.wait_for(1)
    notification = Notification.objects.get()
    assert body["notification_id"] == notification.pk
    assert body["event"] == "raised"
    assert body["alarm"]["id"] == alarm.pk
    assert (body["alarm"]["kind"], body["alarm"]["peak"]) == ("high", 25.5)
    assert body["room"] == {"room_id": "lab-1", "name": "Balance room"}
    assert body["link"] == "http://127.0.0.1:8000/admin/measurements/room/lab-1/change/"
    # The text a person reads names the room, the kind, the value, the range and when.
    for words in ("lab-1", "Balance room", "high", "25.5", "18–22 °C", "2025-04-01T10:01:00Z"):
        assert words in body["title"] + body["message"], words
    assert (notification.state, notification.attempts) == ("sent", 1)
    assert notification.sent_at is not None


def test_a_failing_target_is_retried_with_backoff_then_marked_failed(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.status = 500
    target_create(name="hook", url=receiver.url, events=["raised"])
    raise_alarm()
    notification = Notification.objects.get()
    now = timezone.now()
    with override_settings(NOTIFY_MAX_ATTEMPTS=3, NOTIFY_RETRY_SECONDS=2):
        first = deliver(notification.pk, now=now)
        assert (first.state, first.retry_in) == ("pending", timedelta(seconds=2))
        # Not yet due: nothing is sent.
        assert deliver(notification.pk, now=now + timedelta(seconds=1)).state == "skipped"
        second = deliver(notification.pk, now=now + timedelta(seconds=2))
        assert second.retry_in == timedelta(seconds=4)
        third = deliver(notification.pk, now=now + timedelta(seconds=6))
        assert (third.state, third.retry_in) == ("failed", None)
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == ("failed", 3)
    assert "500" in notification.last_error
    assert len(receiver.bodies) == 3
    assert deliver(notification.pk, now=now + timedelta(hours=1)).state == "skipped"


def test_a_refused_connection_or_a_timeout_is_a_failed_attempt_and_holds_up_nothing(
    receiver: Receiver,
) -> None:
    slow = Receiver()
    slow.delay = 3
    try:
        target_create(name="closed", url=f"json://127.0.0.1:{free_port()}/x", events=["raised"])
        target_create(name="slow", url=slow.url, events=["raised"])
        target_create(name="good", url=receiver.url, events=["raised"])
        raise_alarm()
        with override_settings(NOTIFY_TIMEOUT_SECONDS=1):
            outcomes = {
                n.target.name: deliver(n.pk).state
                for n in Notification.objects.select_related("target")
            }
    finally:
        slow.close()
    assert outcomes == {"closed": "pending", "slow": "pending", "good": "sent"}
    errors = dict(Notification.objects.values_list("target__name", "last_error"))
    assert errors["closed"]
    assert errors["slow"]
    assert receiver.wait_for(1)[0]["event"] == "raised"


@pytest.fixture
def smtp() -> Iterator[tuple[int, list[Message]]]:
    """A real SMTP server on 127.0.0.1 that keeps every message it is sent."""
    received: list[Message] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(email.message_from_bytes(envelope.content))
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


def test_an_alarm_reaches_a_mailbox(smtp: tuple[int, list[Message]]) -> None:
    port, received = smtp
    url = f"mailto://127.0.0.1:{port}?from=alarms@example.org&to=lab@example.org"
    target_create(name="lab mail", url=url, events=["raised"])
    raise_alarm()
    assert deliver(Notification.objects.get().pk).state == "sent"
    [message] = received
    assert message["To"] == "lab@example.org"
    assert "lab-1" in message["Subject"]
    text = "".join(
        part.get_payload(decode=True).decode()
        for part in message.walk()
        if part.get_content_type() == "text/plain"
    )
    assert "25.5" in text
    assert "/admin/measurements/room/lab-1/change/" in text


def test_the_console_target_writes_to_the_workers_log(caplog: pytest.LogCaptureFixture) -> None:
    target_create(name="log", url="console://", events=["raised"])
    raise_alarm()
    with caplog.at_level(logging.WARNING, logger="monitoring.console"):
        assert deliver(Notification.objects.get().pk).state == "sent"
    assert "Alarm: lab-1 (Balance room) high" in caplog.text


def test_secrets_stay_out_of_errors_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens
    url = f"json://alice:pa55-secret@127.0.0.1:{port}/hook?token=tok-secret"
    target_create(name="hook", url=url, events=["raised"])
    raise_alarm()
    with caplog.at_level(logging.DEBUG):
        assert deliver(Notification.objects.get().pk).state == "pending"
    error = Notification.objects.get().last_error
    assert error
    for secret in ("pa55-secret", "tok-secret"):
        assert secret not in error
        assert secret not in caplog.text


def test_a_test_notification_is_sent_at_once(receiver: Receiver) -> None:
    target = target_create(name="hook", url=receiver.url)
    assert target_send_test(target=target) is None
    assert receiver.wait_for(1)[0]["event"] == "test"
    down = target_create(name="down", url=f"json://127.0.0.1:{free_port()}/x")
    assert target_send_test(target=down)
