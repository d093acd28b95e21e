"""Durations as clients write them, and back to ISO 8601."""

from datetime import timedelta

import pytest

from measurements.durations import MAX_DURATION, DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT15M", timedelta(minutes=15)),
        ("PT1H", timedelta(hours=1)),
        ("P1D", timedelta(days=1)),
        ("P1W", timedelta(weeks=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("PT0.5S", timedelta(milliseconds=500)),
        ("pt1h", timedelta(hours=1)),
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        (" 1h ", timedelta(hours=1)),
        ("P3653D", MAX_DURATION),
    ],
)
def test_accepted_forms_parse_to_their_length(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["P1Y", "P1M", "P2Y3D", "P1M2DT1H", "p1y"])
def test_years_and_months_are_refused_because_their_length_varies(text: str) -> None:
    with pytest.raises(DurationError, match="years and months are not accepted"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["PT0S", "0s", "P0D", "0w"])
def test_a_zero_duration_is_refused(text: str) -> None:
    with pytest.raises(DurationError, match="must be positive"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["-1h", "-PT1H", "-P1D"])
def test_a_negative_duration_is_refused(text: str) -> None:
    with pytest.raises(DurationError, match="must be positive"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["P3654D", "P600W", "3654d", "99999999999w", "P99999999999D"])
def test_more_than_ten_years_is_refused(text: str) -> None:
    with pytest.raises(DurationError, match="at most 10 years"):
        parse_duration(text)


@pytest.mark.parametrize(
    "text",
    ["", "P", "PT", "P1DT", "1H", "1.5h", "P1.5D", "PT1M1H", "1 h", "h", "abc", "1y", "PT1H" * 20],
)
def test_malformed_durations_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert isinstance(caught.value, ValueError)
    assert str(caught.value)


def test_a_duration_must_be_text() -> None:
    with pytest.raises(DurationError, match="must be a string"):
        parse_duration(3600)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=1), "PT1H"),
        (timedelta(days=1), "P1D"),
        (timedelta(weeks=1), "P7D"),
        (timedelta(days=1, hours=12), "P1DT12H"),
        (timedelta(minutes=15), "PT15M"),
        (timedelta(seconds=90), "PT1M30S"),
        (timedelta(milliseconds=500), "PT0.5S"),
        (timedelta(0), "PT0S"),
    ],
)
def test_format_duration_writes_iso_8601_in_days_and_time(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@pytest.mark.parametrize("text", ["PT15M", "P1DT12H", "90s", "2w", "PT0.25S"])
def test_formatting_then_parsing_gives_the_same_duration(text: str) -> None:
    duration = parse_duration(text)
    assert parse_duration(format_duration(duration)) == duration
