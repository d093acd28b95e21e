"""Alarms on rooms, the targets that hear of them, and the outbox of notifications to them."""

from datetime import datetime

from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class AlarmKind(models.TextChoices):
    """Why a room is in alarm: above or below its range, or silent."""

    HIGH = "high", "High"
    LOW = "low", "Low"
    NO_DATA = "no_data", "No data"


class AlarmState(models.TextChoices):
    """The `state` filter of the alarms list (DESIGN §4.8)."""

    ACTIVE = "active", "Active (not cleared)"
    UNACKNOWLEDGED = "unacknowledged", "Not acknowledged"
    OPEN = "open", "Open (active or not acknowledged)"
    CLOSED = "closed", "Closed (cleared and acknowledged)"


class AlarmQuerySet(models.QuerySet["Alarm"]):
    def active(self) -> "AlarmQuerySet":
        """Not cleared yet."""
        return self.filter(cleared_at__isnull=True)

    def open(self) -> "AlarmQuerySet":
        """What needs a person: still active, or not yet acknowledged."""
        return self.filter(Q(cleared_at__isnull=True) | Q(acknowledged_at__isnull=True))

    def in_state(self, state: str) -> "AlarmQuerySet":
        """Alarms in one of the AlarmState values."""
        if state == AlarmState.ACTIVE:
            return self.active()
        if state == AlarmState.UNACKNOWLEDGED:
            return self.filter(acknowledged_at__isnull=True)
        if state == AlarmState.OPEN:
            return self.open()
        return self.filter(cleared_at__isnull=False, acknowledged_at__isnull=False)


class Alarm(models.Model):
    """A room out of its range or silent: raised by the readings that prove it, cleared by the
    reading that ends it, acknowledged by a person with a comment."""

    room = models.ForeignKey(
        "measurements.Room", on_delete=models.PROTECT, related_name="alarms", db_index=False
    )
    kind = models.CharField(max_length=7, choices=AlarmKind.choices)
    opened_at = models.DateTimeField(help_text="When the condition began.")
    raised_at = models.DateTimeField(default=timezone.now, help_text="When it was raised.")
    cleared_at = models.DateTimeField(
        null=True, blank=True, help_text="The timestamp of the reading that ended it."
    )
    peak = models.FloatField(null=True, blank=True, help_text="°C; none for no data.")
    readings = models.PositiveIntegerField(
        default=0, help_text="Readings from its start up to, not including, the clearing one."
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    # The username as text, like a signature: it stays if the account is renamed or deleted.
    acknowledged_by = models.CharField(max_length=150, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    # When it was last announced (raised, then each repeat), so repeats keep their rhythm.
    announced_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AlarmQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at", "-id"]
        indexes = [
            models.Index(fields=["room", "-raised_at"], name="alarm_room_raised_idx"),
            models.Index(fields=["-raised_at", "-id"], name="alarm_raised_idx"),
            # What needs a person: the index page and the rooms' open counts read only these.
            models.Index(
                fields=["room"],
                condition=Q(cleared_at__isnull=True) | Q(acknowledged_at__isnull=True),
                name="alarm_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["room", "kind"],
                condition=Q(cleared_at__isnull=True),
                name="monitoring_alarm_one_active",
                violation_error_message="This room already has an active alarm of this kind.",
            ),
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | Q(cleared_at__gte=F("opened_at")),
                name="monitoring_alarm_cleared_after_opened",
                violation_error_message="An alarm cannot clear before it opened.",
            ),
            models.CheckConstraint(
                condition=Q(kind=AlarmKind.NO_DATA, peak__isnull=True)
                | (~Q(kind=AlarmKind.NO_DATA) & Q(peak__isnull=False)),
                name="monitoring_alarm_peak_of_readings",
                violation_error_message="A high or low alarm has a peak; a no-data alarm none.",
            ),
            models.CheckConstraint(
                condition=Q(acknowledged_at__isnull=True) | ~Q(comment=""),
                name="monitoring_alarm_acknowledged_with_comment",
                violation_error_message="Acknowledging an alarm needs a comment.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} alarm #{self.pk} in {self.room_id}"

    @property
    def is_active(self) -> bool:
        return self.cleared_at is None

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None or self.acknowledged_at is None


class RoomJudgement(models.Model):
    """Where judging a room's readings has got to: the last instant judged, and the run of
    readings outside its range that has not (yet) raised an alarm. Locked while a room's new
    readings are judged, so two posters of one room are judged one after the other."""

    room = models.OneToOneField(
        "measurements.Room", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    judged_until = models.DateTimeField(null=True, blank=True)
    run_kind = models.CharField(max_length=4, choices=AlarmKind.choices[:2], blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_peak = models.FloatField(null=True, blank=True)
    run_readings = models.PositiveIntegerField(default=0)
    # Whether the room has an alarm not cleared yet: judging reads the alarms only then. Kept by
    # the two writers of alarms (judging and the no-data sweep), both under this row's lock.
    alarms_active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(run_kind="", run_started_at__isnull=True)
                | (~Q(run_kind="") & Q(run_started_at__isnull=False)),
                name="monitoring_roomjudgement_run_has_a_start",
                violation_error_message="A run of readings outside the range has a start.",
            ),
        ]

    def __str__(self) -> str:
        return f"judgement of {self.room_id} until {self.judged_until}"


class Event(models.TextChoices):
    """What a notification announces."""

    RAISED = "raised", "Raised"
    CLEARED = "cleared", "Cleared"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    REPEAT = "repeat", "Repeat"
    DUE = "due", "Calibration due"


class NotificationTarget(models.Model):
    """Where notifications go: one Apprise URL (e-mail, webhook, chat), for some rooms (none:
    all) and some events. Its secrets are shown masked everywhere after saving."""

    name = models.CharField(max_length=100, unique=True)
    url = models.TextField(
        help_text="An Apprise URL: mailto://…, json://… or jsons://… (webhook), slack://…, …"
    )
    enabled = models.BooleanField(default=True)
    rooms = models.ManyToManyField(
        "measurements.Room",
        blank=True,
        related_name="+",
        help_text="The rooms it hears of; none: every room.",
    )
    # A list of Event values (JSON: the same on both databases, and targets are few enough to
    # be chosen in Python).
    events = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeliveryState(models.TextChoices):
    """Where a notification is in the outbox."""

    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def due(self, now: datetime) -> "NotificationQuerySet":
        """Pending notifications whose next attempt is due, oldest first."""
        return self.filter(state=DeliveryState.PENDING, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "id"
        )


class Notification(models.Model):
    """One announcement of one event to one target (the outbox): written in the transaction of
    the event, delivered by the worker, never deleted by delivery."""

    alarm = models.ForeignKey(
        Alarm,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    # What a `due` reminder is about (an alarm's events name the alarm instead).
    instrument = models.ForeignKey(
        "calibrations.Instrument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    event = models.CharField(max_length=12, choices=Event.choices)
    target = models.ForeignKey(
        NotificationTarget, on_delete=models.PROTECT, related_name="notifications"
    )
    state = models.CharField(
        max_length=7, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The worker's claim and the sweep: pending ones by when they are due.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(state="pending"),
                name="notification_pending_idx",
            ),
            models.Index(
                fields=["-created_at"], condition=Q(state="failed"), name="notification_failed_idx"
            ),
        ]
        constraints = [
            # Raised, cleared and acknowledged happen once per alarm: one row per target.
            models.UniqueConstraint(
                fields=["alarm", "event", "target"],
                condition=Q(event__in=["raised", "cleared", "acknowledged"]),
                name="monitoring_notification_once_per_event",
                violation_error_message="This target has this event of this alarm already.",
            ),
            models.CheckConstraint(
                condition=Q(event="due", alarm__isnull=True, instrument__isnull=False)
                | (~Q(event="due") & Q(alarm__isnull=False, instrument__isnull=True)),
                name="monitoring_notification_of_an_alarm_or_an_instrument",
                violation_error_message="A reminder names an instrument; an alarm's event, its alarm.",
            ),
            models.CheckConstraint(
                condition=Q(state="sent", sent_at__isnull=False)
                | (~Q(state="sent") & Q(sent_at__isnull=True)),
                name="monitoring_notification_sent_when_sent",
                violation_error_message="A notification has a sending time when, and only when, sent.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.target} ({self.state})"


class DueReminder(models.Model):
    """The status an instrument was last reminded of (`due_soon`, `overdue`,
    `out_of_tolerance`): the daily reminder writes `due` notifications when an instrument turns
    to one it was not reminded of; a row goes when its instrument needs no one any more."""

    instrument = models.OneToOneField(
        "calibrations.Instrument",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    status = models.CharField(max_length=20)
    reminded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.instrument_id} reminded as {self.status}"
