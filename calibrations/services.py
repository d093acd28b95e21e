"""Writes of calibrations: the API, the admin and the commands call these.

Every write of a calibration writes its CalibrationVersion in the same transaction: version 1
when it is created, the next version when it is corrected. Nothing else writes versions.
"""

import uuid
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, Max, Q
from django.utils import timezone

from tagging.models import tag_sort_key
from tagging.services import tag_periods_follow_timestamp, tags_add

from .models import (
    LAST_INSTANT,
    AddDays,
    Calibration,
    CalibrationType,
    CalibrationVersion,
    Instrument,
    InstrumentKind,
    refresh_standing,
)

# The fields a correction may change: what was recorded, not who entered it or when.
RECORDED_FIELDS = ("calibration_type", "value", "timestamp", "username", "instrument")


def _instrument_refused(instrument_id: str) -> ValidationError:
    """Why a calibration cannot name `instrument_id`: not registered, or retired."""
    retired = list(Instrument.objects.filter(pk=instrument_id).values_list("retired_at", flat=True))
    if not retired:
        message = f"Unknown instrument '{instrument_id}': register it first."
    elif retired[0] is None:  # registered while this request ran
        message = f"Instrument '{instrument_id}' was not registered yet; try again."
    else:
        message = f"Instrument '{instrument_id}' is retired (since {retired[0].isoformat()})."
    return ValidationError({"instrument": message}, code="invalid")


def _version(
    calibration: Calibration,
    *,
    number: int,
    changed_at: datetime,
    changed_by: User | None,
    reason: str = "",
) -> CalibrationVersion:
    return CalibrationVersion(
        calibration=calibration,
        version=number,
        change=(
            CalibrationVersion.Change.CREATED if number == 1 else CalibrationVersion.Change.CHANGED
        ),
        changed_at=changed_at,
        changed_by=changed_by.get_username() if changed_by is not None else None,
        reason=reason,
        calibration_type_id=calibration.calibration_type_id,
        value=calibration.value,
        timestamp=calibration.timestamp,
        username=calibration.username,
        instrument_id=calibration.instrument_id,
        in_tolerance=calibration.in_tolerance,
    )


def calibration_create(
    *,
    calibration_type: CalibrationType,
    value: float,
    username: str,
    timestamp: datetime | None = None,
    created_by: User | None = None,
    calibration_id: uuid.UUID | None = None,
    instrument_id: str | None = None,
) -> Calibration:
    """Record a calibration and its version 1 (`created`), in one transaction.

    `in_tolerance` is derived from the type's limits as they are now (the type as given: no
    query). `instrument_id`, when given, must name a registered instrument in service now, else
    a ValidationError keyed `instrument`.
    """
    now = timezone.now()
    calibration = Calibration(
        id=calibration_id or uuid.uuid4(),
        calibration_type=calibration_type,
        value=value,
        username=username,
        timestamp=timestamp or now,
        created_at=now,
        created_by=created_by,
        instrument_id=instrument_id,
        in_tolerance=calibration_type.in_tolerance(value),
    )
    version = _version(calibration, number=1, changed_at=now, changed_by=created_by)
    using = router.db_for_write(Calibration)
    if connections[using].vendor == "postgresql":
        stored = _insert_created_postgresql(connections[using], calibration, version)
    else:
        # savepoint=False: inside a caller's transaction (tags, CSV import) this adds no
        # SAVEPOINT; alone it is one BEGIN … COMMIT around the two INSERTs.
        with transaction.atomic(using=using, savepoint=False):
            stored = instrument_id is None or (
                Instrument.objects.using(using).in_service(now).filter(pk=instrument_id).exists()
            )
            if stored:
                calibration.save(force_insert=True, using=using)
                version.save(force_insert=True, using=using)
                if instrument_id is not None:
                    # SQLite runs one writing transaction at a time: nothing can race this.
                    refresh_standing(Instrument, Calibration, [instrument_id])
    if not stored:
        assert instrument_id is not None
        raise _instrument_refused(instrument_id)
    calibration._state.adding = False
    calibration._state.db = using
    return calibration


def _insert_created_postgresql(
    connection: BaseDatabaseWrapper, calibration: Calibration, version: CalibrationVersion
) -> bool:
    """Both rows in one statement: `WITH c AS (INSERT calibration) INSERT version`; whether
    they were stored.

    One statement is atomic by itself, so outside a transaction there is no BEGIN and COMMIT
    to send: one round trip, as before versions existed. Through the ORM (BEGIN, two INSERTs,
    COMMIT) a create cost twice the wall time and 1 ms more CPU than the single INSERT did
    (bench/audit_create_cost.py). A calibration that names an instrument is inserted only if
    that instrument is in service (`WHERE EXISTS`): the check rides in the same statement
    instead of costing a round trip of its own, and nothing is stored when it fails.

    The same statement folds the calibration into the instrument's standing (`_STANDING_SQL`).
    """
    q = connection.ops.quote_name
    calibration_columns = [f.column for f in Calibration._meta.concrete_fields]
    version_fields = [f for f in CalibrationVersion._meta.concrete_fields if not f.primary_key]
    row = ", ".join(["%s"] * len(calibration_columns))
    params = [
        f.get_db_prep_save(getattr(calibration, f.attname), connection)
        for f in Calibration._meta.concrete_fields
    ]
    if calibration.instrument_id is None:
        source = f"VALUES ({row})"
    else:
        source = (
            f"SELECT {row} WHERE EXISTS (SELECT 1 FROM {q(Instrument._meta.db_table)} "
            f"WHERE {q('instrument_id')} = %s "
            f"AND ({q('retired_at')} IS NULL OR {q('retired_at')} > %s))"
        )
        params += [calibration.instrument_id, calibration.created_at]
    standing = ""
    if calibration.instrument_id is not None:
        standing = _STANDING_SQL
        params.append(LAST_INSTANT)
    sql = (
        f"WITH c AS (INSERT INTO {q(Calibration._meta.db_table)} "
        f"({', '.join(q(c) for c in calibration_columns)}) {source} {_RETURNING}){standing} "
        f"INSERT INTO {q(CalibrationVersion._meta.db_table)} "
        f"({', '.join(q(f.column) for f in version_fields)}) "
        f"SELECT {', '.join(['%s'] * len(version_fields))} FROM c"
    )
    params += [f.get_db_prep_save(getattr(version, f.attname), connection) for f in version_fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount)


# A CTE after `c` (the calibration inserted, RETURNING these columns) that folds it into its
# instrument's standing: the newest calibration if it is newer (NEWEST_FIRST); the due date
# when it is not out of tolerance and newer than the good one. Folded from the row's own
# columns rather than recomputed from the calibrations, which the statement's snapshot might
# not hold all of: when another writer changed the row first, PostgreSQL waits for it and
# evaluates these expressions again on the row it left. Its one parameter: LAST_INSTANT.
_RETURNING = 'RETURNING "id", "timestamp", "created_at", "in_tolerance", "instrument_id"'
_NEWER = (
    "(i.newest_calibration_timestamp IS NULL OR i.newest_calibration_timestamp < c.timestamp "
    "OR (i.newest_calibration_timestamp = c.timestamp "
    "AND (i.newest_calibration_recorded_at < c.created_at "
    "OR (i.newest_calibration_recorded_at = c.created_at AND i.newest_calibration_id < c.id))))"
)
_BETTER = (
    "(c.in_tolerance IS NOT FALSE AND (i.good_calibration_timestamp IS NULL "
    "OR i.good_calibration_timestamp < c.timestamp))"
)
_DUE = "(c.timestamp + make_interval(days => i.calibration_interval_days))"
_STANDING_SQL = (
    f", s AS (UPDATE {Instrument._meta.db_table} AS i SET "
    + ", ".join(
        f"{column} = CASE WHEN {_NEWER} THEN c.{source} ELSE i.{column} END"
        for column, source in (
            ("newest_calibration_id", "id"),
            ("newest_calibration_timestamp", "timestamp"),
            ("newest_calibration_recorded_at", "created_at"),
            ("newest_calibration_in_tolerance", "in_tolerance"),
        )
    )
    + f", good_calibration_timestamp = CASE WHEN {_BETTER} THEN c.timestamp "
    "ELSE i.good_calibration_timestamp END"
    + f", next_due_at = CASE WHEN {_BETTER} THEN (CASE WHEN {_DUE} <= %s THEN {_DUE} END) "
    "ELSE i.next_due_at END" + " FROM c WHERE i.instrument_id = c.instrument_id)"
)


@dataclass(frozen=True)
class NewCalibration:
    """The fields of one calibration to record with `calibrations_create_many`."""

    calibration_type: CalibrationType
    value: float
    username: str
    timestamp: datetime
    calibration_id: uuid.UUID | None = None
    created_at: datetime | None = None
    instrument_id: str | None = None


def calibrations_create_many(
    new: Iterable[NewCalibration], *, created_by: User | None = None, batch_size: int = 1000
) -> list[Calibration]:
    """Record many calibrations, each with its version 1, in one transaction (bulk INSERTs).

    The same rows `calibration_create` writes, for loads of thousands (demo data). `created_at`
    may be given (demo data dated in the past); version 1's `changed_at` is always it. An
    instrument named must exist (the foreign key); whether it is retired is not checked.
    """
    now = timezone.now()
    calibrations = [
        Calibration(
            id=row.calibration_id or uuid.uuid4(),
            calibration_type=row.calibration_type,
            value=row.value,
            username=row.username,
            timestamp=row.timestamp,
            created_at=row.created_at or now,
            created_by=created_by,
            instrument_id=row.instrument_id,
            in_tolerance=row.calibration_type.in_tolerance(row.value),
        )
        for row in new
    ]
    versions = [
        _version(c, number=1, changed_at=c.created_at, changed_by=created_by) for c in calibrations
    ]
    named = {c.instrument_id for c in calibrations if c.instrument_id is not None}
    with transaction.atomic(savepoint=False):
        Calibration.objects.bulk_create(calibrations, batch_size=batch_size)
        CalibrationVersion.objects.bulk_create(versions, batch_size=batch_size)
        _standing_refresh_locked(named)
    return calibrations


def _standing_refresh_locked(instrument_ids: Iterable[str]) -> None:
    """Recompute the standing of these instruments from their calibrations, inside the
    caller's transaction: their rows are locked first (in id order, so two callers cannot
    deadlock), so the recomputation sees every calibration committed before it."""
    wanted = sorted(set(instrument_ids))
    if not wanted:
        return
    list(Instrument.objects.select_for_update().filter(pk__in=wanted).order_by("pk").values("pk"))
    refresh_standing(Instrument, Calibration, wanted)


@transaction.atomic
def calibration_correct(
    *, calibration: Calibration, user: User | None, reason: str = "", **changes: Any
) -> set[str]:
    """Correct recorded fields of a calibration with a reason; return the names that changed.

    A field counts as changed only when its new value differs from the stored one (read under
    a row lock), so a save that repeats what is stored writes nothing and adds no version.
    A real change needs a non-blank `reason` (ValidationError otherwise) and adds the next
    CalibrationVersion; a moved timestamp moves tag history's copy of it, in this transaction.
    """
    # The row lock serialises corrections of one calibration: each reads the last version
    # number after the previous one committed, so numbers have no gap and none is lost.
    stored = Calibration.objects.select_for_update().get(pk=calibration.pk)
    changed = set(calibration_changes(stored, **changes))
    if not changed:
        return changed
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "A correction needs a reason."}, code="required")
    named_before = stored.instrument_id
    for name in changed:
        setattr(stored, name, changes[name])
        setattr(calibration, name, changes[name])
    if "instrument" in changed and stored.instrument_id is not None:
        instrument_check(stored.instrument_id, at=stored.timestamp)
    fields = set(changed)
    # Judged again only when what was judged changes, against the type's limits now; a
    # corrected username or date keeps the judgement made when it was written.
    if changed & {"value", "calibration_type"}:
        stored.in_tolerance = stored.calibration_type.in_tolerance(stored.value)
        fields.add("in_tolerance")
    stored.save(update_fields=sorted(fields))
    last = CalibrationVersion.objects.filter(calibration=stored).aggregate(
        number=Max("version"), at=Max("changed_at")
    )
    # Never before the previous version, even if the clock stepped back: "as of T" stays
    # a function of T.
    changed_at = max(timezone.now(), last["at"]) if last["at"] else timezone.now()
    _version(
        stored,
        number=(last["number"] or 0) + 1,
        changed_at=changed_at,
        changed_by=user,
        reason=reason,
    ).save(force_insert=True)
    # The caller's instance leaves as stored: a form's copy may have lost precision in fields
    # that did not change (a widget without microseconds).
    for name in ("value", "timestamp", "username", "in_tolerance"):
        setattr(calibration, name, getattr(stored, name))
    calibration.calibration_type_id = stored.calibration_type_id
    calibration.instrument_id = stored.instrument_id
    if "timestamp" in changed:
        tag_periods_follow_timestamp(calibration=stored)
    # What decides an instrument's standing: which calibrations name it, when, and whether
    # they were in tolerance. The instrument it named before as well as the one it names now.
    if changed & {"instrument", "timestamp", "value", "calibration_type"}:
        _standing_refresh_locked(i for i in (named_before, stored.instrument_id) if i is not None)
    return changed


def calibration_changes(stored: Calibration, **proposed: Any) -> dict[str, Any]:
    """The recorded fields of `proposed` whose value differs from `stored`'s: what a
    correction would change (TypeError for a field that is not a recorded one)."""
    unknown = set(proposed) - set(RECORDED_FIELDS)
    if unknown:
        raise TypeError(f"Not a recorded field of a calibration: {', '.join(sorted(unknown))}.")
    return {name: value for name, value in proposed.items() if _differs(stored, name, value)}


def _differs(stored: Calibration, name: str, value: Any) -> bool:
    # Foreign keys compare by id: no query for the stored type or instrument.
    if name == "calibration_type":
        return value is not None and bool(stored.calibration_type_id != value.pk)
    if name == "instrument":
        return stored.instrument_id != (value.pk if value is not None else None)
    return bool(getattr(stored, name) != value)


def instrument_check(instrument_id: str, *, at: datetime) -> None:
    """That a calibration done at `at` may name `instrument_id`: registered and not retired by
    then (a ValidationError keyed `instrument` otherwise). A correction asks with the
    calibration's timestamp, so an instrument retired since may still be named: the record is
    put right, not redone."""
    if not Instrument.objects.filter(
        Q(retired_at__isnull=True) | Q(retired_at__gt=at), pk=instrument_id
    ).exists():
        raise _instrument_refused(instrument_id)


@dataclass(frozen=True)
class TaggedCalibration:
    """A calibration just recorded, and the names of the tags it carries now, sorted."""

    calibration: Calibration
    tag_names: list[str]


def calibration_create_tagged(
    *,
    calibration_type: CalibrationType,
    value: float,
    username: str,
    timestamp: datetime | None = None,
    created_by: User | None = None,
    tags: Sequence[str] = (),
    calibration_id: uuid.UUID | None = None,
    instrument_id: str | None = None,
) -> TaggedCalibration:
    """Record a calibration (`calibration_create`) and add its first tags, in one transaction."""
    # Without tags `calibration_create` is the only transaction: no savepoint inside another.
    with transaction.atomic() if tags else nullcontext():
        calibration = calibration_create(
            calibration_type=calibration_type,
            value=value,
            username=username,
            timestamp=timestamp,
            created_by=created_by,
            calibration_id=calibration_id,
            instrument_id=instrument_id,
        )
        results = (
            tags_add(
                calibration=calibration, names=tags, user=created_by, at=calibration.created_at
            )
            if tags
            else []
        )
    names = {result.assignment.tag.name for result in results}
    return TaggedCalibration(calibration, sorted(names, key=tag_sort_key))


# ---------------------------------------------------------------------------------------------
# The instrument register.

# What `PATCH /api/instruments/{id}` and the console may change: the id never changes, since
# calibrations and placements name the instrument by it.
INSTRUMENT_FIELDS = ("name", "kind", "serial_number", "calibration_interval_days", "retired_at")


def _instrument_saved(instrument: Instrument, *, update_fields: list[str] | None = None) -> None:
    """Validate the fields (no query) and save; a taken id answers as a ValidationError."""
    instrument.clean_fields()
    try:
        with transaction.atomic():
            if update_fields is None:
                instrument.save(force_insert=True)
            else:
                instrument.save(update_fields=update_fields)
    except IntegrityError:
        if update_fields is None and Instrument.objects.filter(pk=instrument.pk).exists():
            raise ValidationError(
                {"instrument_id": f"An instrument with the id '{instrument.pk}' already exists."},
                code="unique",
            ) from None
        raise


def instrument_create(
    *,
    instrument_id: str,
    name: str,
    kind: str = InstrumentKind.OTHER,
    serial_number: str = "",
    calibration_interval_days: int | None = None,
    retired_at: datetime | None = None,
) -> Instrument:
    """Register an instrument under the id the lab chose; a taken id is a ValidationError
    keyed `instrument_id` (the unique primary key decides, so two at once cannot both win)."""
    instrument = Instrument(
        instrument_id=instrument_id,
        name=name,
        kind=kind,
        serial_number=serial_number,
        calibration_interval_days=calibration_interval_days,
        retired_at=retired_at,
        created_at=timezone.now(),
    )
    _instrument_saved(instrument)
    return instrument


@transaction.atomic
def instrument_update(*, instrument: Instrument, **changes: Any) -> set[str]:
    """Change any of INSTRUMENT_FIELDS; return the names that changed (none: nothing written)."""
    unknown = set(changes) - set(INSTRUMENT_FIELDS)
    if unknown:
        raise TypeError(f"Not a field staff may change: {', '.join(sorted(unknown))}.")
    changed = {name for name, value in changes.items() if getattr(instrument, name) != value}
    for name in changed:
        setattr(instrument, name, changes[name])
    if changed:
        _instrument_saved(instrument, update_fields=sorted(changed))
    if "calibration_interval_days" in changed:
        # The due date follows from the row's own columns: no other row to wait for.
        Instrument.objects.filter(pk=instrument.pk).update(
            next_due_at=AddDays(F("good_calibration_timestamp"), F("calibration_interval_days"))
        )
    return changed
