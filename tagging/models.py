"""Tags, and the history of which calibration carried which tag when. Tagging knows
calibrations only by a string foreign key: the calibrations app builds on it, not the reverse."""

import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Q
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce
from django.utils import timezone

TAG_NAME_MAX_LENGTH = 100
# Case folding lengthens some letters ("ß" → "ss", "ﬃ" → "ffi"): at most three for one.
TAG_KEY_MAX_LENGTH = 3 * TAG_NAME_MAX_LENGTH


def tag_key(name: str) -> str:
    """What every spelling of one tag shares: Unicode's canonical caseless form of the name
    (case-folded after canonical decomposition, stored recomposed).

    Computed here rather than by the database, so "Température Ω check" and "TEMPÉRATURE Ω
    CHECK", or "Ärger" and "ärger", are one tag on SQLite (whose UPPER() and LIKE know only
    ASCII) exactly as on PostgreSQL, whatever either's collation; and "Straße" and "STRASSE",
    which PostgreSQL's per-letter UPPER() told apart, are one tag too.
    """
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def tag_sort_key(name: str) -> tuple[str, str]:
    """Case-insensitive order of tag names (by `tag_key`, as `/api/tags` sorts), with a stable
    tie-break."""
    return (tag_key(name), name)


def normalize_tag_name(raw: object) -> str:
    """The stored form of a tag name: trimmed, 1–100 characters, no `/`, no control characters."""
    if not isinstance(raw, str):
        raise ValidationError("A tag name must be a string.", code="invalid")
    name = raw.strip()
    if not name:
        raise ValidationError("A tag name must not be blank.", code="blank")
    if len(name) > TAG_NAME_MAX_LENGTH:
        raise ValidationError(
            f"A tag name has at most {TAG_NAME_MAX_LENGTH} characters.", code="max_length"
        )
    if "/" in name:
        raise ValidationError("A tag name must not contain '/'.", code="slash")
    if any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in name):
        raise ValidationError("A tag name must not contain control characters.", code="control")
    return name


class TagQuerySet(models.QuerySet["Tag"]):
    def named(self, name: str) -> "TagQuerySet":
        """The tag of that name, whatever its case: an equality on the unique `name_key`."""
        return self.filter(name_key=tag_key(name.strip()))

    def bulk_create(self, objs: Iterable["Tag"], *args: Any, **kwargs: Any) -> list["Tag"]:
        """Django's bulk_create, with each tag's `name_key` filled as `Tag.save` fills it."""
        tags = list(objs)
        for tag in tags:
            tag.name_key = tag_key(tag.name)
        return super().bulk_create(tags, *args, **kwargs)

    def with_active_count(self) -> "TagQuerySet":
        """Tags annotated with `active_count`, how many calibrations carry each now."""
        # A correlated count per tag row uses the active-assignment index; no GROUP BY join.
        active = (
            TagAssignment.objects.active()
            .filter(tag=models.OuterRef("pk"))
            .order_by()
            .values("tag")
            .annotate(n=models.Count("*"))
            .values("n")
        )
        return self.annotate(
            active_count=Coalesce(models.Subquery(active, output_field=models.IntegerField()), 0)
        )


class CodePointCharField(models.CharField):
    """Text compared and sorted by code point on both databases, as Python sorts strings.

    SQLite's default collation (BINARY) already does; on PostgreSQL the column gets the "C"
    collation, whatever the database's own, so ORDER BY, a cursor's `>` and Python's
    `sorted()` agree, and equality walks a plain B-tree index.
    """

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        params: dict[str, Any] = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class Tag(models.Model):
    """A label for calibrations, unique whatever its case, kept with its first spelling."""

    name = models.CharField(max_length=TAG_NAME_MAX_LENGTH)
    # Derived from `name` by `tag_key`, owned by this model: `save()` and `bulk_create()` set
    # it, and a tag is never renamed. Its unique constraint is the case-insensitive rule.
    name_key = CodePointCharField(max_length=TAG_KEY_MAX_LENGTH, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["name_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["name_key"],
                name="tagging_tag_name_unique_ci",
                violation_error_message="A tag with this name already exists.",
            ),
            models.CheckConstraint(
                condition=~Q(name="") & ~Q(name__contains="/"),
                name="tagging_tag_name_valid",
                violation_error_message="A tag name must not be blank or contain '/'.",
            ),
            models.CheckConstraint(
                condition=~Q(name_key=""),
                name="tagging_tag_name_key_set",
                violation_error_message="A tag's case-insensitive key was not computed.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.name_key = tag_key(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_key"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # A form does not see `name_key` (derived), so the unique rule is checked here by name
        # for a friendly message; the constraint still stands behind it.
        try:
            self.name = normalize_tag_name(self.name)
        except ValidationError as exc:
            raise ValidationError({"name": exc.messages}) from None
        taken = Tag.objects.named(self.name).exclude(pk=self.pk).first()
        if taken is not None:
            raise ValidationError(
                {"name": f"A tag with this name already exists, spelt '{taken.name}'."}
            )


def in_force_at(
    instant: datetime | Combinable,
    *,
    through: str = "",
    start: str = "added_at",
    end: str = "removed_at",
) -> Q:
    """The as-of rule, the one definition of it: a period is in force at `instant` when it
    began at or before it and had not ended at it (`end` null or later). `through` reaches the
    periods over a relation (`"tag_assignments__"` from a calibration); `start` and `end` name
    the period's fields (a tag's `added_at`/`removed_at` by default; a sensor placement's
    `placed_at`/`removed_at`). `instant` may be an expression (`OuterRef("timestamp")`: each
    reading's own instant)."""
    return Q(**{f"{through}{start}__lte": instant}) & (
        Q(**{f"{through}{end}__isnull": True}) | Q(**{f"{through}{end}__gt": instant})
    )


class TagAssignmentQuerySet(models.QuerySet["TagAssignment"]):
    def as_of(self, instant: datetime) -> "TagAssignmentQuerySet":
        """Assignments in force at `instant` (see `in_force_at`)."""
        return self.filter(in_force_at(instant))

    def active(self) -> "TagAssignmentQuerySet":
        """Assignments not removed yet."""
        return self.filter(removed_at__isnull=True)


class TagAssignment(models.Model):
    """One period during which a calibration carried a tag; `removed_at` is null while it does."""

    calibration = models.ForeignKey(
        "calibrations.Calibration", on_delete=models.CASCADE, related_name="tag_assignments"
    )
    tag = models.ForeignKey(Tag, on_delete=models.PROTECT, related_name="assignments")
    added_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A copy of `calibration.timestamp`, owned here: `tags_add` writes it with each period and
    # `tag_periods_follow_timestamp` rewrites it when a correction moves the calibration's
    # timestamp, in the correction's transaction. It lets "calibrations carrying tag X at T,
    # newest first" walk one index in page order instead of sorting every match: with
    # millions of periods that is ~1 ms instead of seconds.
    calibration_timestamp = models.DateTimeField(editable=False)

    objects = TagAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["added_at", "id"]
        indexes = [
            # History and as-of of one calibration.
            models.Index(fields=["calibration", "added_at"], name="tagassignment_cal_added_idx"),
            # Calibrations carrying a tag as of an instant, newest first: the page order is
            # the index order, and the as-of test reads the included columns (index-only).
            models.Index(
                fields=["tag", "-calibration_timestamp", "-calibration"],
                include=["added_at", "removed_at"],
                name="tagassignment_tag_cal_ts_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["calibration", "tag"],
                condition=Q(removed_at__isnull=True),
                name="tagging_tagassignment_one_active",
                violation_error_message="This calibration already carries this tag.",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_at__gte=F("added_at")),
                name="tagging_tagassignment_removed_after_added",
                violation_error_message="A tag cannot be removed before it was added.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} on {self.calibration_id} from {self.added_at:%Y-%m-%d %H:%M:%S}"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None
