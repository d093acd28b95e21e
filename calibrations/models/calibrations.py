"""Calibrations of the lab's devices, and the kinds of calibration it does."""

import math
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
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


LIMITS_MESSAGE = "The lower limit must be below the upper limit, and both finite."


class CalibrationType(models.Model):
    """A kind of calibration (gain, offset, …) with the unit its values are in, and the
    tolerance its values must lie within (either limit, both or neither)."""

    name = models.SlugField(max_length=50, unique=True)
    unit = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)
    lower_limit = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_finite],
        help_text="A value below this is out of tolerance; empty: no lower limit.",
    )
    upper_limit = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_finite],
        help_text="A value above this is out of tolerance; empty: no upper limit.",
    )

    objects = CalibrationTypeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # Finite (NaN sorts above every number on PostgreSQL, so `<=` refuses it) and,
            # when both are set, lower below upper.
            models.CheckConstraint(
                condition=(
                    Q(lower_limit__isnull=True)
                    | Q(lower_limit__gte=-MAX_FINITE, lower_limit__lte=MAX_FINITE)
                )
                & (
                    Q(upper_limit__isnull=True)
                    | Q(upper_limit__gte=-MAX_FINITE, upper_limit__lte=MAX_FINITE)
                )
                & (
                    Q(lower_limit__isnull=True)
                    | Q(upper_limit__isnull=True)
                    | Q(lower_limit__lt=F("upper_limit"))
                ),
                name="calibrations_calibrationtype_limits_ordered",
                violation_error_message=LIMITS_MESSAGE,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def in_tolerance(self, value: float) -> bool | None:
        """Whether `value` lies within this type's limits (bounds inclusive); None when the
        type has no limit, so the value is not assessed."""
        if self.lower_limit is None and self.upper_limit is None:
            return None
        return (self.lower_limit is None or value >= self.lower_limit) and (
            self.upper_limit is None or value <= self.upper_limit
        )


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
    # Indexed below, with the timestamp, only where set.
    instrument = models.ForeignKey(
        "Instrument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calibrations",
        db_index=False,
        help_text="The device calibrated, if it is in the register.",
    )
    # Derived by `calibrations.services` from the type's limits whenever the calibration is
    # written, and kept: changing the limits later does not rewrite it.
    in_tolerance = models.BooleanField(
        null=True,
        editable=False,
        help_text="Within its type's limits when written; empty when the type had none.",
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
            # An instrument's newest calibration (its status, due date, last calibration) is
            # one probe, index-only on PostgreSQL; also an instrument's calibrations, newest
            # first. Only calibrations that name one.
            models.Index(
                fields=["instrument", "-timestamp", "-created_at"],
                include=["in_tolerance", "id"],
                condition=Q(instrument__isnull=False),
                name="calibration_instrument_ts_idx",
            ),
            # The calibrations found out of tolerance, newest first: few among many.
            models.Index(
                fields=["-timestamp"],
                condition=Q(in_tolerance=False),
                name="calibration_out_of_tol_idx",
            ),
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
    # PROTECT: an instrument a version names is never deleted. Indexed only where set, for
    # that check.
    instrument = models.ForeignKey(
        "Instrument",
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
    )
    in_tolerance = models.BooleanField(null=True, editable=False)

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
            models.Index(
                fields=["instrument"],
                condition=Q(instrument__isnull=False),
                name="calversion_instrument_idx",
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
