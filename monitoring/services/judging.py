"""Judging a room's new readings (DESIGN §4.8): raised and cleared by the readings that prove
it, in the ingest's transaction.

A room's readings are judged in time order, continuing from the last instant judged
(`RoomJudgement`, locked while judging, so two posters of one room are judged one after the
other and no reading is judged twice or lost between them). Readings of one instant count as
one reading, their mean; an alarm's `peak` and `readings` count and bound the stored readings.

Every ingest runs this, so its three statements (lock and read the state with the room's
rules; the new instants; write the state back) are SQL text: through the ORM they cost a
single-reading post 40 % of its rate, about 1 ms of query building each.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from measurements.models import Measurement, RangeVersion, Room
from measurements.selectors import range_in_force, range_versions_covering, side_of

from ..models import Alarm, AlarmKind, Event, RoomJudgement
from .outbox import notifications_write


@dataclass(frozen=True)
class Instant:
    """The readings of one instant of a room: their mean judges, their count and bounds count."""

    at: datetime
    mean: float
    count: int
    low: float
    high: float
    # Judged again (more readings of the last judged instant, from another post): the whole
    # instant, for a run that starts at it; `count`, `low` and `high` are the new readings'.
    whole: "Instant | None" = None


@dataclass
class State:
    """A room's judgement row (locked) and the rules it is judged by."""

    room_id: str
    judged_until: datetime | None
    run_kind: str
    run_started_at: datetime | None
    run_peak: float | None
    run_readings: int
    alarms_active: bool
    min_c: float | None
    max_c: float | None
    # When the room's newest range version was set: an instant at or after it is judged by
    # the room's range (its newest version); one before it, by the version in force then.
    range_since: datetime | None
    alarm_delay: timedelta
    alarm_deadband_c: float
    alarms_enabled: bool


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _aware(value: Any) -> datetime | None:
    # PostgreSQL returns aware datetimes; SQLite naive ones in UTC.
    if value is None or not isinstance(value, datetime):
        return value
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _param(value: datetime | None) -> Any:
    return None if value is None else connection.ops.adapt_datetimefield_value(value)


def locked_state(room_id: str) -> State:
    """The room's judgement row, locked, with the room's range and rules (one statement; a row
    is made for a room judged for the first time)."""
    judgement, room = _q(RoomJudgement._meta.db_table), _q(Room._meta.db_table)
    versions = _q(RangeVersion._meta.db_table)
    # SQLite has no row locks: it lets one writer in at a time, and the ingest has written.
    lock = " FOR UPDATE OF j" if connection.vendor == "postgresql" else ""
    sql = f"""
        SELECT j.judged_until, j.run_kind, j.run_started_at, j.run_peak, j.run_readings,
               j.alarms_active, r.min_c, r.max_c, r.alarm_delay, r.alarm_deadband_c,
               r.alarms_enabled,
               (SELECT v.changed_at FROM {versions} v WHERE v.room_id = j.room_id
                ORDER BY v.version DESC LIMIT 1)
        FROM {judgement} j JOIN {room} r ON r.room_id = j.room_id
        WHERE j.room_id = %s{lock}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [room_id])
        row = cursor.fetchone()
        if row is None:
            cursor.execute(
                f"INSERT INTO {judgement} (room_id, run_kind, run_readings, alarms_active) "
                "VALUES (%s, '', 0, %s) ON CONFLICT (room_id) DO NOTHING",
                [room_id, False],
            )
            cursor.execute(sql, [room_id])
            row = cursor.fetchone()
    until, kind, started, peak, readings, active, low, high, delay, deadband, enabled, since = row
    return State(
        room_id=room_id,
        judged_until=_aware(until),
        run_kind=kind,
        run_started_at=_aware(started),
        run_peak=peak,
        run_readings=readings,
        alarms_active=bool(active),
        min_c=low,
        max_c=high,
        range_since=_aware(since),
        # PostgreSQL's interval is a timedelta; SQLite keeps the microseconds.
        alarm_delay=delay if isinstance(delay, timedelta) else timedelta(microseconds=delay),
        alarm_deadband_c=deadband,
        alarms_enabled=bool(enabled),
    )


def _state_save(state: State) -> None:
    judgement = _q(RoomJudgement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {judgement} SET judged_until = %s, run_kind = %s, run_started_at = %s, "
            "run_peak = %s, run_readings = %s, alarms_active = %s WHERE room_id = %s",
            [
                _param(state.judged_until),
                state.run_kind,
                _param(state.run_started_at),
                state.run_peak,
                state.run_readings,
                state.alarms_active,
                state.room_id,
            ],
        )


def instants_after(room_id: str, after: datetime | None) -> list[Instant]:
    """The room's readings after `after` (all, when None), one row per instant, oldest first."""
    table = _q(Measurement._meta.db_table)
    since = "" if after is None else ' AND "timestamp" > %s'
    # The unique index (room, timestamp, sensor) hands the rows over grouped and in order.
    sql = (
        f'SELECT "timestamp", AVG(value), COUNT(*), MIN(value), MAX(value) FROM {table} '
        f'WHERE room_id = %s{since} GROUP BY "timestamp" ORDER BY "timestamp"'
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [room_id] if after is None else [room_id, _param(after)])
        return [
            Instant(_aware(at), mean, count, low, high)  # type: ignore[arg-type]
            for at, mean, count, low, high in cursor.fetchall()
        ]


def _instants_of(readings: list[tuple[datetime, float]], *, after: datetime) -> list[Instant]:
    """`instants_after` for readings at hand: grouped by instant, oldest first."""
    by_instant: dict[datetime, list[float]] = {}
    for at, value in readings:
        if at > after:
            by_instant.setdefault(at, []).append(value)
    return [
        Instant(at, sum(values) / len(values), len(values), min(values), max(values))
        for at, values in sorted(by_instant.items())
    ]


def _instant_again(room_id: str, at: datetime, new: list[float]) -> Instant:
    """The last judged instant with `new` readings added to it: the mean of all its readings
    judges it again, and only the new ones count in a run or an alarm that goes on."""
    table = _q(Measurement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT AVG(value), COUNT(*), MIN(value), MAX(value) FROM {table} "
            f'WHERE room_id = %s AND "timestamp" = %s',
            [room_id, _param(at)],
        )
        mean, count, low, high = cursor.fetchone()
    whole = Instant(at, mean, count, low, high)
    return Instant(at, mean, len(new), min(new), max(new), whole=whole)


def _further(kind: str, peak: float | None, instant: Instant) -> float:
    """The peak of a run on `kind`'s side after `instant`: the highest reading of a high run,
    the lowest of a low one (of the stored readings, not their mean)."""
    if kind == AlarmKind.HIGH:
        return instant.high if peak is None else max(peak, instant.high)
    return instant.low if peak is None else min(peak, instant.low)


Range = tuple[float | None, float | None]


class RangeInForce:
    """The range in force at each instant judged (DESIGN §3): the room's own from its newest
    version's change on, so the usual judgement (new readings) reads no version; for an
    instant before it, the version in force then, the room's versions read once."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.versions: list[RangeVersion] | None = None

    def at(self, instant: datetime) -> Range:
        state = self.state
        if state.range_since is None or instant >= state.range_since:
            return state.min_c, state.max_c
        if self.versions is None:
            self.versions = range_versions_covering(state.room_id, instant, None)
        version = range_in_force(self.versions, instant)
        return (None, None) if version is None else (version.min_c, version.max_c)


def _clears(alarm: Alarm, value: float, band: Range, deadband: float) -> bool:
    """Whether a reading ends `alarm`: back inside by the deadband (no range: inside)."""
    low, high = band
    if alarm.kind == AlarmKind.NO_DATA or low is None or high is None:
        return True
    if alarm.kind == AlarmKind.HIGH:
        return value <= high - deadband
    return value >= low + deadband


def _run_step(state: State, side: str, instant: Instant) -> None:
    """The run of readings outside the range, after `instant` (on `side`, or "" inside)."""
    if not side:
        state.run_kind, state.run_started_at, state.run_peak, state.run_readings = "", None, None, 0
    elif state.run_kind != side:
        whole = instant.whole or instant
        state.run_kind, state.run_started_at = side, instant.at
        state.run_peak, state.run_readings = _further(side, None, whole), whole.count
    else:
        state.run_readings += instant.count
        state.run_peak = _further(side, state.run_peak, instant)


def _judged(state: State, instants: Iterator[Instant] | list[Instant]) -> list[Alarm]:
    active: dict[str, Alarm] | None = None if state.alarms_active else {}
    changed: dict[int, Alarm] = {}
    raised: list[Alarm] = []
    now = timezone.now()
    ranges = RangeInForce(state)
    for instant in instants:
        band = ranges.at(instant.at)
        if active is None:  # read only when the room has some
            active = {
                a.kind: a
                for a in Alarm.objects.active().filter(room_id=state.room_id).select_for_update()
            }
        for kind, alarm in list(active.items()):
            if _clears(alarm, instant.mean, band, state.alarm_deadband_c):
                # A reading from the silent stretch, sent late, ends it when it was raised for.
                alarm.cleared_at = max(instant.at, alarm.opened_at)
                del active[kind]
                changed.pop(alarm.pk, None)
                alarm.save(update_fields=["cleared_at", "readings", "peak"])
                notifications_write(alarm=alarm, event=Event.CLEARED)
            elif alarm.kind != AlarmKind.NO_DATA:
                alarm.readings += instant.count
                alarm.peak = _further(alarm.kind, alarm.peak, instant)
                changed[alarm.pk] = alarm
        side = side_of(instant.mean, *band) or ""
        _run_step(state, side, instant)
        if (
            side
            and side not in active
            and state.alarms_enabled
            and state.run_started_at is not None
            and instant.at - state.run_started_at >= state.alarm_delay
        ):
            alarm = Alarm.objects.create(
                room_id=state.room_id,
                kind=side,
                opened_at=state.run_started_at,
                raised_at=now,
                announced_at=now,
                peak=state.run_peak,
                readings=state.run_readings,
            )
            active[side] = alarm
            raised.append(alarm)
            notifications_write(alarm=alarm, event=Event.RAISED)
        state.judged_until = instant.at
    for alarm in changed.values():
        alarm.save(update_fields=["readings", "peak"])
    state.alarms_active = bool(active) if active is not None else state.alarms_active
    return raised


# No savepoint: it runs inside the ingest's transaction, whose fate it shares.
@transaction.atomic(savepoint=False)
def room_judge(*, room_id: str, stored: list[tuple[datetime, float]] | None = None) -> list[Alarm]:
    """Judge the room's readings after the last judged instant; return the alarms raised.

    Called where readings are stored, in their transaction (`readings_stored`). A reading
    before the last judged instant (a late one) changes no alarm; one at it (another sensor's,
    posted apart) judges that instant again by the mean of all its readings. `stored`, the readings this
    transaction stored, spares reading them back: every reading committed before was judged
    before its commit, so an instant after the last judged one holds only this transaction's
    readings."""
    state = locked_state(room_id)
    until = state.judged_until
    if stored is not None and until is not None:
        instants = _instants_of(stored, after=until)
        again = [value for instant, value in stored if instant == until]
        if again:
            # Another sensor's readings of the last judged instant: it is judged again, as
            # the mean of all its readings (DESIGN §4.5, "readings at one instant").
            instants.insert(0, _instant_again(room_id, until, again))
    else:
        instants = instants_after(room_id, until)
    if not instants:
        return []
    raised = _judged(state, instants)
    _state_save(state)
    return raised


def alarms_active_set(room_id: str) -> None:
    """Mark that the room has an active alarm (the no-data sweep, under the room's lock)."""
    judgement = _q(RoomJudgement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {judgement} SET alarms_active = %s WHERE room_id = %s", [True, room_id]
        )
