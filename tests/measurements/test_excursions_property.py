"""On PostgreSQL the excursions' statement (`runs._excursions_sql`) finds exactly the runs of
the portable walk (`runs._runs`) on random rooms: several sensors, some at one instant, values
on the bounds, random range histories (none, cleared ranges, changes inside the window, a clock
that stepped back) and random windows, which may start or end inside a run."""

import collections
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from measurements.models import Measurement, RangeVersion
from measurements.selectors import instants, ranges, runs
from tests.factories import RoomFactory

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db]

T0 = datetime(2025, 3, 1, tzinfo=UTC)
SENSORS = ["", "a", "b"]
# Quarter degrees: every sum of a few of them is exact, so a mean is one rounding in either
# path, and the bounds, drawn from the same grid, are often met exactly (by a reading or by a
# mean). Bounds 18–20 °C at the lowest, readings 17.5–21.5 °C: runs on both sides.
VALUES = st.integers(min_value=70, max_value=86).map(lambda quarters: quarters / 4)
LOWS = st.integers(min_value=72, max_value=80).map(lambda quarters: quarters / 4)
WIDTHS = st.integers(min_value=1, max_value=8).map(lambda quarters: quarters / 4)
SHIFTS = st.sampled_from([timedelta(0), timedelta(microseconds=1), -timedelta(microseconds=1)])
# What the runs found were like, so a change of the strategies that stops producing them shows.
SEEN: collections.Counter[str] = collections.Counter()


# A long window's statement probes the candidate instants (sparse) or walks the whole window
# (dense), by the window's size and how many readings it holds per candidate; a short window's
# only walks (short). Each forced in turn (`_PROBED_AFTER`, `_WALK_WHOLE_UP_TO`,
# `_READINGS_PER_PROBE`).
WALKS = {"sparse": (0, 0), "dense": (0, 10**9), "short": (0, 0)}


@pytest.fixture(params=list(WALKS))
def walk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    whole, per_probe = WALKS[request.param]
    short = request.param == "short"
    monkeypatch.setattr(runs, "_PROBED_AFTER", timedelta(days=10**6 if short else -1))
    monkeypatch.setattr(runs, "_WALK_WHOLE_UP_TO", whole)
    monkeypatch.setattr(runs, "_READINGS_PER_PROBE", per_probe)
    return str(request.param)


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=600),  # seconds since the previous instant
            st.lists(VALUES, min_size=1, max_size=3),  # each sensor's reading at it
        ),
        min_size=4,
        max_size=40,
    ),
    data=st.data(),
)
def test_the_statement_finds_the_runs_of_the_portable_walk(
    steps: list[tuple[int, list[float]]], data: st.DataObject, walk: str
) -> None:
    at = T0
    times = []
    readings = []
    for gap, values in steps:
        at += timedelta(seconds=gap)
        times.append(at)
        readings += [
            Measurement(room_id="prop", timestamp=at, sensor=sensor, value=value)
            for sensor, value in zip(SENSORS, values, strict=False)
        ]

    # An instant of `lowest..highest` (-1: a second before the first; len: after the last),
    # moved by a microsecond or not.
    def moment(lowest: int, highest: int) -> st.SearchStrategy[datetime]:
        return st.builds(
            lambda index, shift: (
                (
                    times[0] - timedelta(seconds=1)
                    if index < 0
                    else times[index]
                    if index < len(times)
                    else times[-1] + timedelta(seconds=1)
                )
                + shift
            ),
            st.integers(min_value=lowest, max_value=highest),
            SHIFTS,
        )

    history = data.draw(
        st.lists(
            # None: a cleared range.
            st.tuples(moment(-1, len(times)), st.one_of(st.none(), st.tuples(LOWS, WIDTHS))),
            min_size=1,
            max_size=4,
        )
    )
    if data.draw(st.integers(min_value=0, max_value=7)) == 0:
        history = []  # a room that never had a range
    middle = len(times) // 2
    start = data.draw(moment(-1, middle))
    end = data.draw(moment(middle, len(times)))
    with transaction.atomic():
        RoomFactory(room_id="prop")
        Measurement.objects.bulk_create(readings)
        # Changed at any moment, in any order of versions (a clock that stepped back).
        for number, (changed_at, bounds) in enumerate(history, start=1):
            RangeVersion.objects.create(
                room_id="prop",
                version=number,
                min_c=None if bounds is None else bounds[0],
                max_c=None if bounds is None else bounds[0] + bounds[1],
                changed_at=changed_at,
                reason="" if number == 1 else "a change",
            )
        previous = instants.previous_instant("prop", start)
        versions = ranges.range_versions_covering("prop", previous.at if previous else start, end)
        expected = list(runs._runs(instants.instants("prop", start, end), versions, previous))
        assert runs._excursions_sql("prop", start, end) == expected
        transaction.set_rollback(True)
    SEEN[f"{walk} examples"] += 1
    SEEN[f"{walk} runs"] += len(expected)
    SEEN["ongoing"] += sum(run.end is None for run in expected)
    SEEN["started before"] += sum(run.started_before for run in expected)
    SEEN["sides meeting"] += sum(a.end == b.start for a, b in itertools.pairwise(expected))


def test_the_random_rooms_had_runs_of_every_shape() -> None:
    # Runs after the property test above (pytest keeps a file's order; xdist's worksteal may
    # take it elsewhere, where it sees nothing: then it says nothing).
    for walk in WALKS:
        if SEEN[f"{walk} examples"]:
            assert SEEN[f"{walk} runs"] > SEEN[f"{walk} examples"] / 4, walk
    if SEEN["ongoing"]:
        assert SEEN["started before"]
        assert SEEN["sides meeting"]


def test_a_mean_rounded_past_a_bound_no_reading_crosses_is_outside_in_both_paths(
    walk: str,
) -> None:
    # Seven sensors just above 15.1 °C (a reading converted from °F can be such a float): the
    # float mean of their readings is 15.099999999999998, below the bound. The statement's
    # candidates are readings near the inner band, not only beyond it, or it would miss this.
    reading = 15.100000000000001
    RoomFactory(room_id="prop")
    RangeVersion.objects.create(room_id="prop", version=1, min_c=15.1, max_c=20.0, changed_at=T0)
    Measurement.objects.bulk_create(
        [Measurement(room_id="prop", timestamp=T0, sensor=f"s{n}", value=reading) for n in range(7)]
        + [Measurement(room_id="prop", timestamp=T0 + timedelta(minutes=1), value=16.0)]
    )
    end = T0 + timedelta(minutes=1)
    expected = list(
        runs._runs(
            instants.instants("prop", T0, end), ranges.range_versions_covering("prop", T0, end)
        )
    )
    assert [(run.kind, run.start, run.end, run.readings) for run in expected] == [
        ("low", T0, end, 7)
    ]
    assert runs._excursions_sql("prop", T0, end) == expected
