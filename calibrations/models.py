"""Calibrations of the lab's devices, and the kinds of calibration it does."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The largest finite double: `value` between ±this excludes NaN and ±Infinity on PostgreSQL,
# where NaN sorts above every number; SQLite stores NaN as NULL, which NOT NULL refuses.
MAX_FINITE = 1.7976931348623157e308


class CalibrationType(models.Model):
    """A kind of calibration (gain, offset, …) with the unit its values are in."""

    name = models.SlugField(max_length=50, unique=True)
    unit = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)

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
    value = models.FloatField()
    timestamp = models.DateTimeField(default=timezone.now, help_text="When it was done.")
    username = models.CharField(max_length=150, help_text="Who did it.")
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
