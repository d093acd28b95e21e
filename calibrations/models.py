"""Calibrations of the lab's devices, and the kinds of calibration it does."""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

if TYPE_CHECKING:
    from tagging.models import Tag

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


def tag_sort_key(name: str) -> tuple[str, str]:
    """Case-insensitive order of tag names, with a stable tie-break."""
    return (name.casefold(), name)


class CalibrationQuerySet(models.QuerySet["Calibration"]):
    # The instant whose tag names `_fetch_all` attaches to each row (see `for_api`).
    _tags_as_of: datetime | None = None

    def for_api(self, *, as_of: datetime | None = None) -> "CalibrationQuerySet":
        """Calibrations with their type and `tag_names`, the tags carried at `as_of` (default now).

        The names come in one extra query per evaluation, as (calibration id, name) pairs rather
        than TagAssignment and Tag instances: building ~300 model instances was most of a
        50-row page's time.
        """
        clone = self.select_related("calibration_type")
        clone._tags_as_of = as_of or timezone.now()
        return clone

    def carrying(self, tags: "Tag | QuerySet[Tag]", *, as_of: datetime) -> "CalibrationQuerySet":
        """Calibrations that carried the tag (or one of the tags) at the instant `as_of`."""
        from tagging.models import TagAssignment

        assignments = TagAssignment.objects.as_of(as_of).filter(
            calibration_id=models.OuterRef("pk")
        )
        if isinstance(tags, models.QuerySet):
            assignments = assignments.filter(tag__in=tags)
        else:
            assignments = assignments.filter(tag=tags)
        return self.filter(models.Exists(assignments))

    def tagged(self, tag: "Tag", *, as_of: datetime) -> "CalibrationQuerySet":
        """Calibrations that carried `tag` at `as_of`, annotated `tagged_timestamp`.

        Same rows as `carrying(tag, as_of=…)` (a calibration's periods of one tag never
        overlap, so one period matches), joined to the matching period instead of tested with
        EXISTS. `tagged_timestamp` is the period's copy of the calibration's `timestamp`:
        ordering by it (then `-pk`) is the newest-first order, read straight from the index
        `tagassignment_tag_cal_ts_idx`, so a page costs its own rows, not every match.
        """
        removed_after = Q(tag_assignments__removed_at__isnull=True) | Q(
            tag_assignments__removed_at__gt=as_of
        )
        return self.filter(
            Q(tag_assignments__tag=tag) & Q(tag_assignments__added_at__lte=as_of) & removed_after
        ).annotate(tagged_timestamp=models.F("tag_assignments__calibration_timestamp"))

    def _clone(self) -> "CalibrationQuerySet":
        clone = super()._clone()  # type: ignore[misc]
        clone._tags_as_of = self._tags_as_of
        return clone

    def _fetch_all(self) -> None:
        fetch = self._result_cache is None
        super()._fetch_all()
        if (
            fetch
            and self._tags_as_of is not None
            and self._iterable_class is models.query.ModelIterable
        ):
            _attach_tag_names(self._result_cache, self._tags_as_of)  # type: ignore[arg-type]


def _attach_tag_names(calibrations: "list[Calibration]", as_of: datetime) -> None:
    from tagging.models import TagAssignment

    names: dict[uuid.UUID, list[str]] = {c.pk: [] for c in calibrations}
    if names:
        pairs = (
            TagAssignment.objects.as_of(as_of)
            .filter(calibration_id__in=list(names))
            .order_by()
            .values_list("calibration_id", "tag__name")
        )
        for calibration_id, name in pairs:
            names[calibration_id].append(name)
    for calibration in calibrations:
        calibration.tag_names = sorted(names[calibration.pk], key=tag_sort_key)


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
    # Set by `Calibration.objects.for_api(as_of=…)`: the tags carried then, sorted.
    tag_names: list[str]

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
