"""What joins the lab's two halves: which registered instrument reported as which sensor of
which room, and when (DESIGN §3 Placement). A reading (room R, sensor S, instant T) was taken by
the instrument whose placement of (R, S) was in force at T: tagging's as-of rule
(`tagging.models.in_force_at`), with a placement's own field names."""

from datetime import datetime
from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F, Q
from django.db.models.expressions import Combinable

from calibrations.models import Instrument
from measurements.models import SENSOR_MAX_LENGTH, Room
from tagging.models import in_force_at


def placed_at_instant(instant: datetime | Combinable, *, through: str = "") -> Q:
    """Placements in force at `instant` (an expression too: `OuterRef("timestamp")`)."""
    return in_force_at(instant, through=through, start="placed_at", end="removed_at")


class TsTzRange(models.Func):
    """`tstzrange(placed_at, removed_at, '[)')`: a period, open-ended while `removed_at` is
    null; the instant it ends is outside it, as in the as-of rule."""

    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgreSQLExclusionConstraint(ExclusionConstraint):
    """An exclusion constraint on PostgreSQL and nothing elsewhere: SQLite has none, so there
    the service checks under the write lock its INSERT takes (`placement_create`)."""

    def _on_postgresql(self, schema_editor: Any) -> bool:
        return bool(schema_editor.connection.vendor == "postgresql")

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        return (
            super().constraint_sql(model, schema_editor)
            if self._on_postgresql(schema_editor)
            else None
        )

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        return (
            super().create_sql(model, schema_editor) if self._on_postgresql(schema_editor) else None
        )

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        return (
            super().remove_sql(model, schema_editor) if self._on_postgresql(schema_editor) else None
        )

    def validate(
        self, model: Any, instance: Any, exclude: Any = None, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        if connections[using].vendor == "postgresql":
            super().validate(model, instance, exclude=exclude, using=using)


class PlacementQuerySet(models.QuerySet["Placement"]):
    def in_force_at(self, instant: datetime) -> "PlacementQuerySet":
        """Placements in force at `instant` (see `placed_at_instant`)."""
        return self.filter(placed_at_instant(instant))

    def open(self) -> "PlacementQuerySet":
        """Placements not removed yet."""
        return self.filter(removed_at__isnull=True)

    def overlapping(self, start: datetime, end: datetime | None) -> "PlacementQuerySet":
        """Placements whose period shares an instant with `[start, end)` (`end` None: open)."""
        rows = self.filter(Q(removed_at__isnull=True) | Q(removed_at__gt=start))
        return rows if end is None else rows.filter(placed_at__lt=end)

    def in_the_way_of(self, placement: "Placement") -> "Placement | None":
        """The placement, other than `placement`, of its instrument or of its (room, sensor)
        whose period shares an instant with its own (the earliest when several): what the
        constraints would refuse it for."""
        if placement.removed_at is not None and placement.removed_at <= placement.placed_at:
            return None  # an empty period shares no instant
        return (
            self.filter(
                Q(instrument_id=placement.instrument_id)
                | Q(room_id=placement.room_id, sensor=placement.sensor)
            )
            .overlapping(placement.placed_at, placement.removed_at)
            .exclude(pk=placement.pk)
            .order_by("placed_at", "id")
            .first()
        )


class Placement(models.Model):
    """One period during which a registered instrument reported as sensor `sensor` of a room;
    `removed_at` is null while it still does."""

    # Indexed below, with the time, for an instrument's placements in order.
    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="placements", db_index=False
    )
    room = models.ForeignKey(
        Room, on_delete=models.PROTECT, related_name="placements", db_index=False
    )
    sensor = models.CharField(
        max_length=SENSOR_MAX_LENGTH,
        blank=True,
        default="",
        help_text="The `sensor` its readings carry (empty: the room's unnamed sensor).",
    )
    placed_at = models.DateTimeField(help_text="From this instant its readings are its own.")
    removed_at = models.DateTimeField(
        null=True, blank=True, help_text="From this instant they no longer are; empty while placed."
    )

    objects = PlacementQuerySet.as_manager()

    class Meta:
        ordering = ["placed_at", "id"]
        indexes = [
            # The instrument of a reading: the placement of its (room, sensor) begun last at or
            # before its instant; also a room's placements.
            models.Index(fields=["room", "sensor", "-placed_at"], name="placement_room_sensor_idx"),
            models.Index(fields=["instrument", "placed_at"], name="placement_instrument_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument"],
                condition=Q(removed_at__isnull=True),
                name="monitoring_placement_one_open_per_instrument",
                violation_error_message="This instrument is placed already.",
            ),
            models.UniqueConstraint(
                fields=["room", "sensor"],
                condition=Q(removed_at__isnull=True),
                name="monitoring_placement_one_open_per_sensor",
                violation_error_message="An instrument is placed as this sensor already.",
            ),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True) | Q(removed_at__gte=F("placed_at")),
                name="monitoring_placement_removed_after_placed",
                violation_error_message="A placement cannot end before it began.",
            ),
            PostgreSQLExclusionConstraint(
                name="monitoring_placement_sensor_periods_disjoint",
                expressions=[
                    ("room", RangeOperators.EQUAL),
                    ("sensor", RangeOperators.EQUAL),
                    (
                        TsTzRange("placed_at", "removed_at", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message="Another instrument was placed as this sensor then.",
            ),
            # One instrument is in one place at a time, closed periods included.
            PostgreSQLExclusionConstraint(
                name="monitoring_placement_instrument_periods_disjoint",
                expressions=[
                    ("instrument", RangeOperators.EQUAL),
                    (
                        TsTzRange("placed_at", "removed_at", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message="This instrument was placed elsewhere then.",
            ),
        ]

    def __str__(self) -> str:
        sensor = f" as '{self.sensor}'" if self.sensor else ""
        return (
            f"{self.instrument_id} in {self.room_id}{sensor} from {self.placed_at:%Y-%m-%d %H:%M}"
        )

    def in_the_way_message(self, *, of: "Placement") -> str:
        """Why this placement stands in the way of placement `of`, naming it."""
        sensor = f"sensor '{self.sensor}'" if self.sensor else "the unnamed sensor"
        until = "until now" if self.removed_at is None else f"until {self.removed_at.isoformat()}"
        whose = (
            "This instrument"
            if self.instrument_id == of.instrument_id
            else f"Instrument '{self.instrument_id}'"
        )
        return (
            f"{whose} is placed as {sensor} of room '{self.room_id}' from "
            f"{self.placed_at.isoformat()} {until} (placement {self.pk}): remove that placement, "
            "or choose a time outside it."
        )

    def validate_constraints(self, exclude: Any = None) -> None:
        # A form's check before saving: a placement that shares time with another is refused
        # naming that one, rather than in the constraints' general words (and on SQLite too,
        # which has no exclusion constraint).
        if self.instrument_id and self.room_id and self.placed_at:
            other = Placement.objects.in_the_way_of(self)
            if other is not None:
                raise ValidationError(other.in_the_way_message(of=self), code="in_the_way")
        super().validate_constraints(exclude=exclude)
