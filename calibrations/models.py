"""Calibrations of the lab's devices, and the kinds of calibration it does."""

import math
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The largest finite double: `value` between ±this excludes NaN and ±Infinity on PostgreSQL,
# where NaN sorts above every number; SQLite stores NaN as NULL, which NOT NULL refuses.
MAX_FINITE = 1.7976931348623157e308


USERNAME_MAX_LENGTH = 150


def validate_finite(value: float) -> None:
    """A calibration's value is a finite number: no NaN, no ±Infinity."""
    if not math.isfinite(value):
        raise ValidationError("The value is not a finite number.", code="not_finite")


USERNAME_BLANK = "The username must not be blank."


def validate_username(value: str) -> None:
    """Who did a calibration: 1–150 characters, not only spaces (kept as written)."""
    if not value.strip():
        raise ValidationError(USERNAME_BLANK, code="blank")


class CalibrationTypeQuerySet(models.QuerySet["CalibrationType"]):
    def by_name(self, name: object) -> "CalibrationType":
        """The type named `name`; a ValidationError naming every allowed type otherwise."""
        try:
            if isinstance(name, str):
                return self.get(name=name)
        except self.model.DoesNotExist:
            pass
        allowed = ", ".join(self.order_by("name").values_list("name", flat=True))
        raise ValidationError(
            f"Unknown calibration type '{name}'. Allowed: {allowed}.", code="unknown"
        )


class CalibrationType(models.Model):
    """A kind of calibration (gain, offset, …) with the unit its values are in."""

    name = models.SlugField(max_length=50, unique=True)
    unit = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)

    objects = CalibrationTypeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalibrationQuerySet(models.QuerySet["Calibration"]):
    def for_api(self) -> "CalibrationQuerySet":
        """Calibrations with their type, as every API answer and admin list shows them."""
        return self.select_related("calibration_type")


class Calibration(models.Model):
    """One calibration of a device: its type, value, when it was done and by whom."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    calibration_type = models.ForeignKey(
        CalibrationType, on_delete=models.PROTECT, related_name="calibrations"
    )
    value = models.FloatField(validators=[validate_finite])
    timestamp = models.DateTimeField(default=timezone.now, help_text="When it was done.")
    username = models.CharField(
        max_length=USERNAME_MAX_LENGTH,
        validators=[validate_username],
        error_messages={"blank": USERNAME_BLANK},
        help_text="Who did it.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The signed-in user who entered it.",
    )

    objects = CalibrationQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp"]
        indexes = [
            # Newest-first pages, alone or filtered by user and/or type.
            models.Index(fields=["-timestamp", "-id"], name="calibration_ts_idx"),
            models.Index(
                fields=["username", "calibration_type", "-timestamp"],
                name="calibration_user_type_ts_idx",
            ),
            models.Index(fields=["calibration_type", "-timestamp"], name="calibration_type_ts_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(value__gte=-MAX_FINITE) & Q(value__lte=MAX_FINITE),
                name="calibrations_calibration_value_finite",
                violation_error_message="The value must be a finite number.",
            ),
            models.CheckConstraint(
                condition=~Q(username=""),
                name="calibrations_calibration_username_not_blank",
                violation_error_message="The username must not be blank.",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.calibration_type} = {self.value} ({self.username}, {self.timestamp:%Y-%m-%d})"
        )


class CalibrationVersionQuerySet(models.QuerySet["CalibrationVersion"]):
    def for_history(self) -> "CalibrationVersionQuerySet":
        """Versions oldest first, with their type, as the history route and the admin show them."""
        return self.select_related("calibration_type").order_by("version")


class CalibrationVersion(models.Model):
    """One recorded state of a calibration: its fields after a change, who made it, when, why.

    Written only by `calibrations.services` in the transaction of the change; never updated or
    deleted (no code path does, the admin has no change or delete permission on it, and the
    calibration it belongs to cannot be deleted while it exists: PROTECT).
    """

    class Change(models.TextChoices):
        CREATED = "created", "created"
        CHANGED = "changed", "changed"

    # No index of its own: the unique (calibration, version) index leads with it.
    calibration = models.ForeignKey(
        Calibration,
        on_delete=models.PROTECT,
        related_name="versions",
        editable=False,
        db_index=False,
    )
    version = models.PositiveIntegerField(editable=False)
    change = models.CharField(max_length=7, choices=Change.choices, editable=False)
    changed_at = models.DateTimeField(editable=False)
    # The username as text, like a signature on paper: it stays if the account is renamed or
    # deleted. Null when no signed-in user made the change (a migration, a command).
    changed_by = models.CharField(  # noqa: DJ001 (DESIGN §3: null when there is none)
        max_length=150, null=True, blank=True, editable=False
    )
    reason = models.TextField(blank=True, editable=False)
    calibration_type = models.ForeignKey(
        CalibrationType, on_delete=models.PROTECT, related_name="+", editable=False
    )
    value = models.FloatField(editable=False)
    timestamp = models.DateTimeField(editable=False)
    username = models.CharField(max_length=150, editable=False)

    objects = CalibrationVersionQuerySet.as_manager()

    class Meta:
        ordering = ["calibration", "version"]
        indexes = [
            # "Corrected since T": a snapshot of one tag reads those calibrations apart. Only
            # corrections: the creations are most versions, and a create writes no entry here.
            models.Index(
                fields=["changed_at"],
                condition=Q(version__gt=1),
                name="calversion_corrected_idx",
            ),
        ]
        constraints = [
            # Also the index of "the latest version of C at or before T" (backwards scan).
            models.UniqueConstraint(
                fields=["calibration", "version"],
                name="calibrations_calibrationversion_unique_version",
                violation_error_message="This version of the calibration already exists.",
            ),
            models.CheckConstraint(
                condition=(Q(version=1) & Q(change="created"))
                | (Q(version__gt=1) & Q(change="changed")),
                name="calibrations_calibrationversion_created_first",
                violation_error_message="Version 1 is the creation; every later one a change.",
            ),
            models.CheckConstraint(
                condition=Q(change="created") | ~Q(reason=""),
                name="calibrations_calibrationversion_reason_required",
                violation_error_message="A correction needs a reason.",
            ),
            models.CheckConstraint(
                condition=Q(value__gte=-MAX_FINITE) & Q(value__lte=MAX_FINITE),
                name="calibrations_calibrationversion_value_finite",
                violation_error_message="The value must be a finite number.",
            ),
        ]

    def __str__(self) -> str:
        return f"version {self.version} of {self.calibration_id}"
