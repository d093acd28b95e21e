"""Reads of tag history: which calibrations carried which tags at an instant."""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    Aggregate,
    CharField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.sql.compiler import SQLCompiler

from calibrations.models import Calibration, CalibrationVersion

from .models import Tag, TagAssignment, in_force_at, tag_sort_key


def tag_names_by_calibration(
    calibration_ids: Iterable[uuid.UUID], *, as_of: datetime
) -> dict[uuid.UUID, list[str]]:
    """The names of the tags each calibration carried at `as_of`, sorted, in one query.

    (calibration id, name) pairs rather than TagAssignment and Tag instances: building a few
    hundred model instances was most of a 50-row page's time.
    """
    names: dict[uuid.UUID, list[str]] = {pk: [] for pk in calibration_ids}
    if names:
        pairs = (
            TagAssignment.objects.as_of(as_of)
            .filter(calibration_id__in=list(names))
            .order_by()
            .values_list("calibration_id", "tag__name")
        )
        for calibration_id, name in pairs:
            names[calibration_id].append(name)
    return {pk: sorted(found, key=tag_sort_key) for pk, found in names.items()}


def calibrations_carrying(
    tags: Tag | QuerySet[Tag],
    *,
    as_of: datetime,
    calibrations: QuerySet[Calibration] | None = None,
) -> QuerySet[Calibration]:
    """The calibrations (of `calibrations`, default all) that carried the tag, or one of the
    tags, at the instant `as_of`."""
    assignments = TagAssignment.objects.as_of(as_of).filter(calibration_id=OuterRef("pk"))
    if isinstance(tags, Tag):
        assignments = assignments.filter(tag=tags)
    else:
        assignments = assignments.filter(tag__in=tags)
    base = Calibration.objects.all() if calibrations is None else calibrations
    return base.filter(Exists(assignments))


def calibrations_tagged(
    tag: Tag, *, as_of: datetime, calibrations: QuerySet[Calibration] | None = None
) -> QuerySet[Calibration]:
    """The calibrations that carried `tag` at `as_of`, annotated `tagged_timestamp`.

    Same rows as `calibrations_carrying(tag, as_of=…)` (a calibration's periods of one tag
    never overlap, so one period matches), joined to the matching period instead of tested with
    EXISTS. `tagged_timestamp` is the period's copy of the calibration's `timestamp`: ordering by
    it (then `-pk`) is the newest-first order, read straight from the index
    `tagassignment_tag_cal_ts_idx`, so a page costs its own rows, not every match.
    """
    base = Calibration.objects.all() if calibrations is None else calibrations
    # One filter() call: the tag and the as-of rule apply to the same period (the same join).
    return base.filter(
        Q(tag_assignments__tag=tag) & in_force_at(as_of, through="tag_assignments__")
    ).annotate(tagged_timestamp=F("tag_assignments__calibration_timestamp"))


# Joins the tag names of one calibration in SQL. Tag names cannot hold control characters
# (`normalize_tag_name`), so the unit separator cannot occur inside a name.
TAG_NAME_SEPARATOR = "\x1f"


class _JoinedNames(Aggregate):
    """`string_agg(name, chr(31))` on PostgreSQL, `group_concat(name, char(31))` on SQLite."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, CHR(31))"
    output_field = CharField()

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return super().as_sql(
            compiler,
            connection,
            function="GROUP_CONCAT",
            template="%(function)s(%(expressions)s, CHAR(31))",
            **extra,
        )


class _UtcIsoText(Func):
    """An instant as ISO 8601 text in UTC with `Z`, written by the database.

    PostgreSQL always writes six digits of microseconds (`snapshot_text_instant` drops
    `.000000`, as Python's isoformat does); SQLite stores the instant in UTC as
    `YYYY-MM-DD HH:MM:SS[.ffffff]` already. Text from the database saves
    parsing every timestamp into a datetime only to format it again: that was a third of a
    streamed snapshot's CPU time.
    """

    output_field = CharField()
    template = "TO_CHAR(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any
    ) -> Any:
        return super().as_sql(
            compiler, connection, template="REPLACE(%(expressions)s, ' ', 'T') || 'Z'", **extra
        )


def snapshot_text_instant(text: str) -> str:
    """A `_UtcIsoText` value as `utc_iso` writes it (no `.000000` for a whole second)."""
    return text[:-8] + "Z" if text.endswith(".000000Z") else text


# The columns of a snapshot row, in this order (see `snapshot_parts`).
SNAPSHOT_COLUMNS = (
    "calibration_id",
    "calibration_type__name",
    "value",
    "timestamp_text",
    "username",
    "tag_names",
    "created_at_text",
)


def snapshot_parts(
    *,
    as_of: datetime,
    tag: str | None = None,
    calibration_type: str | None = None,
    username: str | None = None,
) -> list[QuerySet[Any]]:
    """What the records said at `as_of` (DESIGN §4.4a), as value tuples of SNAPSHOT_COLUMNS in
    one or two queries, each ordered by the timestamp as of `as_of`, then id, and no row in
    two: merged in that order (`snapshot_sort_key`), they are the snapshot.

    A row per calibration that existed at `as_of`: its fields as of then, the names of the
    tags it carried then joined by TAG_NAME_SEPARATOR (null when none; unsorted), and its
    `created_at`; both instants as UTC ISO text (`_UtcIsoText`). Filters apply to the values as
    of `as_of`; `tag` is a name (any case) carried at `as_of`, and an unknown one has no parts.

    Without a tag, one query reads every version once (`_versions_as_of`). With one, the
    calibrations not corrected since `as_of` stand as they were then, so they are read in the
    tag's index order and stream from the first row (`_tagged_unchanged_since`); only those
    corrected since (few, unless `as_of` is long ago) need their version then, and a sort.
    """
    if tag is None:
        return [_versions_as_of(as_of, calibration_type=calibration_type, username=username)]
    found = Tag.objects.named(tag).first()
    if found is None:
        return []
    # A calibration that existed at `as_of` changed since only by a correction (version 1 is
    # its creation, at or before then): the partial index of corrections finds them.
    changed_since = CalibrationVersion.objects.filter(version__gt=1, changed_at__gt=as_of)
    carried = TagAssignment.objects.as_of(as_of).filter(
        calibration_id=OuterRef("calibration_id"), tag=found
    )
    corrected = _versions_as_of(as_of, calibration_type=calibration_type, username=username).filter(
        Exists(carried),
        calibration_id__in=changed_since.values("calibration_id"),
    )
    unchanged = _tagged_unchanged_since(
        found,
        as_of,
        calibration_type=calibration_type,
        username=username,
        changed_since=changed_since,
    )
    return [unchanged, corrected]


def snapshot_sort_key(row: tuple[Any, ...]) -> tuple[str, Any]:
    """The snapshot's order on a row of `snapshot_parts`: the timestamp as of T, then id.

    The text without its `Z` sorts as the instant on both databases: PostgreSQL writes six
    digits of microseconds always, SQLite none for a whole second, a prefix of the others."""
    return row[3][:-1], row[0]


def _tag_names(as_of: datetime, calibration: str) -> Subquery:
    names = (
        TagAssignment.objects.as_of(as_of)
        .filter(calibration_id=OuterRef(calibration))
        .order_by()
        .values("calibration_id")
        .annotate(names=_JoinedNames("tag__name"))
        .values("names")
    )
    return Subquery(names, output_field=CharField())


_Rows = TypeVar("_Rows", bound=QuerySet[Any])


def _recorded_as(rows: _Rows, *, calibration_type: str | None, username: str | None) -> _Rows:
    """The snapshot's filters on the recorded fields, which a calibration and each of its
    versions both carry."""
    if calibration_type is not None:
        rows = rows.filter(calibration_type__name=calibration_type)
    if username is not None:
        rows = rows.filter(username=username)
    return rows


def _versions_as_of(
    as_of: datetime, *, calibration_type: str | None, username: str | None
) -> QuerySet[CalibrationVersion]:
    """Each calibration's latest version with `changed_at <= as_of`: no later version at or
    before it (an anti-join, so a full snapshot is one pass over the versions). Version 1's
    `changed_at` is the calibration's `created_at`, so "has a version at or before T" is
    "created at or before T"."""
    later = CalibrationVersion.objects.filter(
        calibration_id=OuterRef("calibration_id"),
        version__gt=OuterRef("version"),
        changed_at__lte=as_of,
    )
    rows = CalibrationVersion.objects.filter(changed_at__lte=as_of).filter(~Exists(later))
    rows = _recorded_as(rows, calibration_type=calibration_type, username=username)
    return (
        rows.annotate(
            tag_names=_tag_names(as_of, "calibration_id"),
            timestamp_text=_UtcIsoText("timestamp"),
            created_at_text=_UtcIsoText("calibration__created_at"),
        )
        .order_by("timestamp", "calibration_id")
        .values_list(*SNAPSHOT_COLUMNS)
    )


def _tagged_unchanged_since(
    tag: Tag,
    as_of: datetime,
    *,
    calibration_type: str | None,
    username: str | None,
    changed_since: QuerySet[CalibrationVersion],
) -> QuerySet[Calibration]:
    """The calibrations carrying `tag` at `as_of` with no version after it: their fields now
    are their fields then. Ordered by the period's copy of the timestamp (`calibrations_tagged`),
    which is the calibration's own, so PostgreSQL reads the rows in the index's order, with no
    sort before the first."""
    rows = calibrations_tagged(tag, as_of=as_of).filter(
        ~Exists(changed_since.filter(calibration_id=OuterRef("pk"))),
        created_at__lte=as_of,
    )
    rows = _recorded_as(rows, calibration_type=calibration_type, username=username)
    return (
        rows.annotate(
            calibration_id=F("pk"),
            tag_names=_tag_names(as_of, "pk"),
            timestamp_text=_UtcIsoText("timestamp"),
            created_at_text=_UtcIsoText("created_at"),
        )
        .order_by("tagged_timestamp", "pk")
        .values_list(*SNAPSHOT_COLUMNS)
    )


def split_tag_names(joined: str | None) -> list[str]:
    """The tag names of a snapshot row, sorted as everywhere (DESIGN §4.2)."""
    if not joined:
        return []
    return sorted(joined.split(TAG_NAME_SEPARATOR), key=tag_sort_key)
