"""The register of the devices the lab calibrates (DESIGN §3, §4.7): what each is, how often it
must be calibrated, and where it stands, computed from its calibrations by the database."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan, LessThanOrEqual
from django.db.models.sql.compiler import SQLCompiler
from django.utils import timezone

from .calibrations import Calibration

INSTRUMENT_ID_MAX_LENGTH = 64
# A room id's rules (DESIGN §3). `\A…\Z` in Python (`$` would also match before a trailing
# newline), `^…$` in SQL.
INSTRUMENT_ID_PATTERN = r"\A[A-Za-z0-9._-]{1,64}\Z"
INSTRUMENT_ID_SQL_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
INSTRUMENT_ID_MESSAGE = "An instrument id is 1–64 letters, digits, '.', '_' or '-'."
INSTRUMENT_ID_HELP = "1–64 letters, digits, `.`, `_` or `-`; case-sensitive; chosen by you."
# A hundred years: longer is no interval a lab keeps, and it keeps every due date in range.
MAX_INTERVAL_DAYS = 36_500
INTERVAL_MESSAGE = (
    f"The calibration interval is a whole number of days from 1 to {MAX_INTERVAL_DAYS:,}."
)
# The last instant Python (and so the API) can write: a due date past it is none.
LAST_INSTANT = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)

validate_instrument_id = RegexValidator(
    INSTRUMENT_ID_PATTERN, message=INSTRUMENT_ID_MESSAGE, code="invalid_instrument_id"
)


class InstrumentKind(models.TextChoices):
    SENSOR = "sensor", "Sensor"
    REFERENCE = "reference", "Reference"
    OTHER = "other", "Other"


class InstrumentStatus(models.TextChoices):
    """Where an instrument stands (DESIGN §4.7): the first that applies, in this order."""

    RETIRED = "retired", "Retired"
    OUT_OF_TOLERANCE = "out_of_tolerance", "Out of tolerance"
    NEVER_CALIBRATED = "never_calibrated", "Never calibrated"
    OVERDUE = "overdue", "Overdue"
    DUE_SOON = "due_soon", "Due soon"
    OK = "ok", "OK"


# The statuses that need a person: the console's index and `calibrations_due` list them.
NEEDS_ATTENTION = (
    InstrumentStatus.OUT_OF_TOLERANCE,
    InstrumentStatus.OVERDUE,
    InstrumentStatus.DUE_SOON,
)


class AddDays(models.Func):
    """`instant + days` (whole days), or null when that is past `LAST_INSTANT`.

    Written per database rather than with Django's duration arithmetic, which on SQLite runs a
    Python function per row that raises on overflow (a 500) instead of answering null.
    PostgreSQL adds calendar days in the session's time zone, which Django sets to UTC.
    """

    output_field = models.DateTimeField()
    arity = 2

    def as_postgresql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        instant, days = (compiler.compile(e) for e in self.get_source_expressions())
        total = f"({instant[0]} + make_interval(days => {days[0]}))"
        sql = f"(CASE WHEN {total} <= %s THEN {total} END)"
        return sql, (*instant[1], *days[1], LAST_INSTANT, *instant[1], *days[1])

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        # Django stores an instant as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in UTC; datetime() keeps
        # whole seconds (and is null past the year 9999), so the fraction is put back.
        instant, days = (compiler.compile(e) for e in self.get_source_expressions())
        sql = f"(datetime({instant[0]}, '+' || {days[0]} || ' days') || substr({instant[0]}, 20))"
        return sql, (*instant[1], *days[1], *instant[1])


def _soon(at: datetime, due_soon: timedelta) -> datetime:
    return at + due_soon if at < LAST_INSTANT - due_soon else LAST_INSTANT


class InstrumentQuerySet(models.QuerySet["Instrument"]):
    def with_status(self, *, now: datetime, due_soon: timedelta) -> "InstrumentQuerySet":
        """Instruments with where they stand now: `status` (an InstrumentStatus value), `due_at`
        and their newest calibration (`last_calibration_id`, `last_calibration_timestamp`,
        `last_calibration_in_tolerance`; null when none).

        Read from the standing each instrument keeps (`refresh_standing`, the calibration
        services): columns, not subqueries, so the register's page in due order is a range of
        `instrument_due_idx` whatever the number of instruments. `now` only decides
        retired, overdue and due soon.
        """
        return self.annotate(
            last_calibration_id=F("newest_calibration_id"),
            last_calibration_timestamp=F("newest_calibration_timestamp"),
            last_calibration_in_tolerance=F("newest_calibration_in_tolerance"),
            due_at=F("next_due_at"),
            status=models.Case(
                *(
                    models.When(condition, then=Value(status))
                    for status, condition in status_conditions(now, due_soon).items()
                ),
                default=Value(InstrumentStatus.OK),
                output_field=models.CharField(),
            ),
        )

    def with_status_as_of(self, *, at: datetime, due_soon: timedelta) -> "InstrumentQuerySet":
        """Instruments with their status at a past or future instant `at`, as `with_status`
        annotates it now, computed from the calibrations as recorded now with a timestamp at
        or before `at` (a probe of `calibration_instrument_ts_idx` per instrument each).

        The status is one probe, not a CASE over the others: Django would inline each
        subquery it refers to. When the newest calibration is not out of tolerance it is also
        the newest one that is not, so the status needs only the newest.
        """
        done = Calibration.objects.filter(instrument=OuterRef("pk"), timestamp__lte=at)
        newest = done.order_by(*NEWEST_FIRST)
        due = AddDays(F("timestamp"), OuterRef("calibration_interval_days"))
        judged = newest.annotate(
            judged=models.Case(
                models.When(in_tolerance=False, then=Value(InstrumentStatus.OUT_OF_TOLERANCE)),
                models.When(
                    LessThan(due, Value(at, output_field=models.DateTimeField())),
                    then=Value(InstrumentStatus.OVERDUE),
                ),
                models.When(
                    LessThanOrEqual(
                        due, Value(_soon(at, due_soon), output_field=models.DateTimeField())
                    ),
                    then=Value(InstrumentStatus.DUE_SOON),
                ),
                default=Value(InstrumentStatus.OK),
                output_field=models.CharField(),
            )
        ).values("judged")[:1]
        good = newest.exclude(in_tolerance=False).annotate(due=due).values("due")[:1]
        return self.annotate(
            last_calibration_id=Subquery(newest.values("pk")[:1]),
            last_calibration_timestamp=Subquery(newest.values("timestamp")[:1]),
            last_calibration_in_tolerance=Subquery(newest.values("in_tolerance")[:1]),
            due_at=Subquery(good, output_field=models.DateTimeField()),
            status=models.Case(
                models.When(retired_at__lte=at, then=Value(InstrumentStatus.RETIRED)),
                default=Coalesce(
                    Subquery(judged, output_field=models.CharField()),
                    Value(InstrumentStatus.NEVER_CALIBRATED),
                ),
                output_field=models.CharField(),
            ),
        )

    def in_service(self, at: datetime | None = None) -> "InstrumentQuerySet":
        """Instruments not retired at `at` (default now)."""
        moment = at or timezone.now()
        return self.filter(Q(retired_at__isnull=True) | Q(retired_at__gt=moment))


# The columns of the standing an instrument keeps (`refresh_standing`), in the model's order.
STANDING_FIELDS = (
    "newest_calibration_id",
    "newest_calibration_timestamp",
    "newest_calibration_recorded_at",
    "newest_calibration_in_tolerance",
    "good_calibration_timestamp",
    "next_due_at",
    "due_sort",
)
# An instrument's newest calibration: by timestamp, ties by when it was recorded, then by id
# (two recorded in the same microsecond, as a CSV import records its rows).
NEWEST_FIRST = ("-timestamp", "-created_at", "-id")


def status_conditions(now: datetime, due_soon: timedelta) -> dict[str, Q]:
    """Each status but `ok` as a condition on the kept standing, in DESIGN §4.7's order: the
    first that holds is the status. `status_filter` turns one into a filter that stands alone."""
    return {
        InstrumentStatus.RETIRED: Q(retired_at__lte=now),
        InstrumentStatus.OUT_OF_TOLERANCE: Q(newest_calibration_in_tolerance=False),
        InstrumentStatus.NEVER_CALIBRATED: Q(newest_calibration__isnull=True),
        # On `due_sort`, indexed and never null, so that a page of one status is a range of
        # the index; a due date that is none sorts at the last instant, never before `soon`
        # but in the year 9999.
        InstrumentStatus.OVERDUE: Q(due_sort__lt=now),
        InstrumentStatus.DUE_SOON: Q(due_sort__lte=_soon(now, due_soon), next_due_at__isnull=False),
    }


def status_filter(status: str, *, now: datetime, due_soon: timedelta) -> Q:
    """The instruments whose status now is `status`, as conditions on columns (which the
    database can match to an index, unlike the CASE `with_status` annotates)."""
    wanted = Q()
    for name, condition in status_conditions(now, due_soon).items():
        if name == status:
            return wanted & condition
        # Django's negation keeps rows where the column is null (no due date: not overdue).
        wanted &= ~condition
    return wanted


def refresh_standing(
    instrument_model: type[models.Model],
    calibration_model: type[models.Model],
    instrument_ids: Iterable[str] | None = None,
) -> int:
    """Recompute the standing the given instruments keep (all when None) from their
    calibrations, in one UPDATE; how many rows it wrote. The models are passed in so a
    migration can call it with its historical ones.

    A caller inside a transaction that may race others first locks the rows
    (`select_for_update`): the UPDATE's own snapshot is taken before it waits for a lock.
    """
    newest = calibration_model.objects.filter(instrument=OuterRef("pk")).order_by(*NEWEST_FIRST)  # type: ignore[attr-defined]
    good = newest.exclude(in_tolerance=False)
    rows = instrument_model.objects.all()  # type: ignore[attr-defined]
    if instrument_ids is not None:
        rows = rows.filter(pk__in=list(instrument_ids))
    return int(
        rows.update(
            newest_calibration_id=Subquery(newest.values("pk")[:1]),
            newest_calibration_timestamp=Subquery(newest.values("timestamp")[:1]),
            newest_calibration_recorded_at=Subquery(newest.values("created_at")[:1]),
            newest_calibration_in_tolerance=Subquery(newest.values("in_tolerance")[:1]),
            good_calibration_timestamp=Subquery(good.values("timestamp")[:1]),
            next_due_at=AddDays(
                Subquery(good.values("timestamp")[:1]), F("calibration_interval_days")
            ),
        )
    )


class Instrument(models.Model):
    """A device the lab calibrates: its id, what it is, and how often it must be calibrated."""

    instrument_id = models.CharField(
        primary_key=True,
        max_length=INSTRUMENT_ID_MAX_LENGTH,
        validators=[validate_instrument_id],
        help_text=INSTRUMENT_ID_HELP,
        verbose_name="instrument id",
    )
    name = models.CharField(max_length=200, help_text="What the lab calls it.")
    kind = models.CharField(
        max_length=16, choices=InstrumentKind.choices, default=InstrumentKind.OTHER
    )
    serial_number = models.CharField(max_length=100, blank=True, default="")
    calibration_interval_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_INTERVAL_DAYS)],
        verbose_name="calibration interval (days)",
        help_text="Days from a calibration to the next one due; empty: no fixed interval.",
    )
    retired_at = models.DateTimeField(
        null=True, blank=True, help_text="When it left service; empty while in service."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # Where it stands, kept by the calibration services whenever a calibration naming it is
    # written or its interval changes (`refresh_standing`), so that the register reads columns
    # rather than probing the calibrations of every instrument (DESIGN §8: a page of 100,000
    # in 50 ms). Its newest calibration (NEWEST_FIRST), whatever its timestamp:
    newest_calibration = models.ForeignKey(
        Calibration,
        null=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    newest_calibration_timestamp = models.DateTimeField(null=True, editable=False)
    newest_calibration_recorded_at = models.DateTimeField(null=True, editable=False)
    newest_calibration_in_tolerance = models.BooleanField(null=True, editable=False)
    # The newest calibration not out of tolerance, and the due date it sets.
    good_calibration_timestamp = models.DateTimeField(null=True, editable=False)
    next_due_at = models.DateTimeField(null=True, editable=False)
    # The register's order: soonest due first, those without a due date last.
    due_sort = models.GeneratedField(
        expression=Coalesce("next_due_at", Value(LAST_INSTANT)),
        output_field=models.DateTimeField(),
        db_persist=True,
    )

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        ordering = ["instrument_id"]
        indexes = [models.Index(fields=["due_sort", "instrument_id"], name="instrument_due_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(instrument_id__regex=INSTRUMENT_ID_SQL_PATTERN),
                name="calibrations_instrument_id_valid",
                violation_error_message=INSTRUMENT_ID_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(calibration_interval_days__isnull=True)
                | Q(
                    calibration_interval_days__gte=1,
                    calibration_interval_days__lte=MAX_INTERVAL_DAYS,
                ),
                name="calibrations_instrument_interval_positive",
                violation_error_message=INTERVAL_MESSAGE,
            ),
            models.CheckConstraint(
                condition=~Q(name=""),
                name="calibrations_instrument_name_not_blank",
                violation_error_message="An instrument needs a name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} ({self.name})"
