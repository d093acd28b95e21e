"""Mean kinetic temperature (USP <1160>, DESIGN §4.5): the single temperature that would give
the same thermal degradation as the readings did, weighted by time exactly as the
time-weighted average (`weighted.weigh`: step hold, the instant before the window, one
instant = one reading):

    MKT = (ΔH/R) / −ln( Σ wᵢ·exp(−(ΔH/R)/Tᵢ) / Σ wᵢ ),   Tᵢ in kelvin.

exp(−(ΔH/R)/T) underflows a double for cold readings and a high activation energy (and
PostgreSQL raises an error rather than return 0), so both paths factor out a reference Tₘ at
least as warm as every weighted value: with S = Σ wᵢ·exp((ΔH/R)(1/Tₘ − 1/Tᵢ)), every term at
most 1, 1/MKT = 1/Tₘ − ln(S / Σ wᵢ)/(ΔH/R). Python takes the warmest weighted instant; SQL,
to spare a second pass over the instants, the warmest stored reading before the window's end
(or the one held from before it), found by an index-only scan: an instant's mean is never
above its warmest reading. Terms below e⁻⁷⁰⁰ count as e⁻⁷⁰⁰: beside the warmest instant's
they change nothing a double can hold (unless the sensors of one instant disagree by hundreds
of kelvins at cryogenic temperatures). A constant series gives S = Σ wᵢ exactly, so its MKT
is its value.
"""

import math
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from django.db import connection

from ..models import Bucket, Room, Summary
from ..units import ABSOLUTE_ZERO_C
from .instants import instants, previous_instant, room_id_of, table
from .weighted import (
    BUCKET_SEGMENTS_SQL,
    HELD_SQL,
    STEPS_SQL,
    Weighing,
    bucket_params,
    table_sql,
    weigh,
    weighed_buckets,
)

# kJ/mol; ΔH/R = 10,000 K with R = 8.3144 J/(mol·K) (USP <1160>).
DEFAULT_ACTIVATION_ENERGY = 83.144
MAX_ACTIVATION_ENERGY = 1000.0
GAS_CONSTANT = Fraction("8.3144")  # J/(mol·K)
KELVIN = -ABSOLUTE_ZERO_C  # 273.15
# The smallest term kept (e⁻⁷⁰⁰ ≈ 1e-304, above the smallest normal double).
FLOOR_EXPONENT = -700.0


def h_over_r(activation_energy: float) -> float:
    """ΔH/R in kelvin for ΔH in kJ/mol, computed on the decimal the client wrote, so the
    default 83.144 gives exactly 10,000 K."""
    return float(Fraction(repr(activation_energy)) * 1000 / GAS_CONSTANT)


def _term(value: float, reference: float, hr: float) -> float:
    """exp((ΔH/R)(1/Tₘ − 1/T)), with T and Tₘ the kelvins of `value` and `reference` (°C)."""
    kelvin, top = value + KELVIN, reference + KELVIN
    if kelvin <= 0 or top <= 0:
        return 0.0
    return math.exp(min(max(hr * (1 / top - 1 / kelvin), FLOOR_EXPONENT), 0.0))


def _mkt(reference: float, terms: float, covered: float, hr: float) -> float:
    """The MKT (°C) from the warmest weighted value (°C) and the sums of the definition."""
    top = reference + KELVIN
    if top <= 0:
        return ABSOLUTE_ZERO_C  # every weighted reading at absolute zero
    q = top * math.log(terms / covered) / hr  # ≤ 0
    # Written as a change of Tₘ so that q = 0 gives Tₘ exactly, in °C.
    return reference + top * q / (1 - q)


def mkt_of(weighing: Weighing, hr: float) -> float | None:
    """The MKT of a weighed window; one that covers no time: `Weighing.fallback`."""
    weighed = [(value, s) for value, s in weighing.segments if s > 0]
    if not weighed:
        return weighing.fallback()
    reference = max(value for value, _ in weighed)
    terms = sum(s * _term(value, reference, hr) for value, s in weighed)
    return _mkt(reference, terms, sum(s for _, s in weighed), hr)


def mkt_summary(
    room: "Room | str",
    start: datetime,
    end: datetime,
    activation_energy: float = DEFAULT_ACTIVATION_ENERGY,
) -> Summary:
    """The mean kinetic temperature of `room` over `[start, end]` as `average` (°C), with the
    min, max and count of the readings inside the window; `activation_energy` in kJ/mol."""
    hr = h_over_r(activation_energy)
    if connection.vendor == "postgresql":
        return _mkt_summary_sql(room_id_of(room), start, end, hr)
    weighing = weigh(previous_instant(room, start), instants(room, start, end), start, end)
    return weighing.summary(mkt_of(weighing, hr))


def mkt_buckets(
    room: "Room | str",
    start: datetime,
    end: datetime,
    width: timedelta,
    activation_energy: float = DEFAULT_ACTIVATION_ENERGY,
) -> list[Bucket]:
    """The MKT per `width`-wide bucket aligned to the UTC epoch, as `average`; each bucket a
    window of its own, as for `time_weighted_buckets`."""
    hr = h_over_r(activation_energy)
    if connection.vendor == "postgresql":
        return _mkt_buckets_sql(room_id_of(room), start, end, width, hr)
    return weighed_buckets(room, start, end, width, lambda weighing: mkt_of(weighing, hr))


# exp((ΔH/R)(1/Tₘ − 1/T)) in SQL for a value `v` and the reference `m` (both °C), as `_term`.
_TERM_SQL = """
    CASE WHEN {m} + 273.15 > 0 AND {v} + 273.15 > 0
         THEN exp(LEAST(GREATEST(
             %(hr)s * (1 / ({m} + 273.15) - 1 / ({v} + 273.15)), -700::float8), 0::float8))
         ELSE 0 END
"""


def _term_sql(value: str, reference: str) -> str:
    return _TERM_SQL.format(v=value, m=reference)


def _mkt_summary_sql(room_id: str, start: datetime, end: datetime, hr: float) -> Summary:
    # The statement of the time-weighted average, with each segment's term against the
    # reference: the warmest stored reading before the window's end or the one held from
    # before it (`top`: two index probes and one index-only scan, MATERIALIZED so that the
    # scan runs once, not at each use). Reading the window's instants twice instead (to take
    # the warmest instant) made the statement 1.9× the time-weighted one, this 1.25–1.4×.
    # The time before the first instant, held by the one before the window, is added in
    # Python, as for the time-weighted average.
    sql = f"""
        WITH {table_sql(STEPS_SQL)}, segments AS (
            SELECT t, v, n, lo, hi,
                   date_part(
                       'epoch',
                       COALESCE(lead(t) OVER (ORDER BY t ROWS UNBOUNDED PRECEDING), %(end)s) - t
                   ) AS seconds
            FROM steps
        ), top AS MATERIALIZED (
            SELECT ({table_sql(HELD_SQL)}) AS held, (
                       SELECT max(value) FROM {table()}
                       WHERE room_id = %(room)s AND "timestamp" >= %(start)s
                         AND "timestamp" < %(end)s
                   ) AS m
        )
        SELECT (SELECT held FROM top),
               date_part('epoch', COALESCE(min(t), %(end)s) - %(start)s),
               (SELECT GREATEST(held, m) FROM top),
               sum(seconds * {_term_sql("v", "(SELECT GREATEST(held, m) FROM top)")}),
               sum(seconds),
               sum(n)::bigint, min(lo), max(hi), sum(v * n) / NULLIF(sum(n), 0)
        FROM segments
    """
    params: dict[str, Any] = {"room": room_id, "start": start, "end": end, "hr": hr}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        held, head, top, terms, covered, count, low, high, mean = cursor.fetchone()
    count = int(count or 0)
    terms, covered = terms or 0.0, covered or 0.0
    if held is not None and head > 0:
        terms, covered = head * _term(held, top, hr) + terms, head + covered
    if covered > 0:
        average = _mkt(top, terms, covered, hr)
    elif count:
        average = mean
    else:
        average = held
    return Summary(average=average, min=low, max=high, count=count)


def _mkt_buckets_sql(
    room_id: str, start: datetime, end: datetime, width: timedelta, hr: float
) -> list[Bucket]:
    # The segments of the time-weighted series, kept (MATERIALIZED) for a second pass: per
    # bucket the warmest weighted value first (`tops`), then the sums of the definition
    # against it.
    sql = f"""
        WITH {table_sql(BUCKET_SEGMENTS_SQL).replace("seconds AS (", "seconds AS MATERIALIZED (")},
        tops AS MATERIALIZED (
            SELECT b, GREATEST(max(v) FILTER (WHERE own > 0), max(held) FILTER (WHERE head > 0))
                       AS m
            FROM seconds
            GROUP BY b
        )
        SELECT s.b, tops.m,
               sum(s.own * {_term_sql("s.v", "tops.m")})
                   + COALESCE(sum(s.head * {_term_sql("s.held", "tops.m")}), 0),
               sum(s.own) + sum(s.head),
               sum(s.n)::bigint, min(s.lo), max(s.hi), sum(s.v * s.n) / sum(s.n)
        FROM seconds s JOIN tops USING (b)
        GROUP BY s.b, tops.m
        ORDER BY s.b
    """
    params = {**bucket_params(room_id, start, end, width), "hr": hr}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Bucket(
            start=bucket,
            average=_mkt(top, terms, covered, hr) if covered else mean,
            min=low,
            max=high,
            count=int(count),
        )
        for bucket, top, terms, covered, count, low, high, mean in rows
    ]
