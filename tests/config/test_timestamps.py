"""Timestamps in their common form take a shortcut; what they parse to, and what is refused,
stays what the full checks decide."""

from datetime import UTC, datetime, timedelta

import pytest

from config.api.timestamps import TimestampError, parse_timestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-04-01T10:00:00Z", datetime(2025, 4, 1, 10, 0, tzinfo=UTC)),
        ("2025-04-01T10:00:00.5Z", datetime(2025, 4, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("2025-04-01T12:00:00.123456+02:00", datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("2025-04-01T10:00:00-05:30", datetime(2025, 4, 1, 15, 30, tzinfo=UTC)),
        # Not the common form: the full path (a space for `+`, no offset).
        ("2025-04-01T12:00:00 02:00", datetime(2025, 4, 1, 10, 0, tzinfo=UTC)),
        ("2025-04-01T10:00:00", datetime(2025, 4, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_parses_to_the_instant_in_utc(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize(
    "text",
    [
        "2025-13-01T10:00:00Z",  # the common form's shape, not a date
        "2025-02-30T10:00:00Z",
        "9999-12-31T23:00:00-05:00",  # beyond the year 9999 in UTC
        "0001-01-01T00:30:00+01:00",  # before the year 1 in UTC
        "2025-04-01T10:00:00Z\x00",
        "2025-04-01",
    ],
)
def test_refuses_what_is_not_an_instant(text: str) -> None:
    with pytest.raises(TimestampError):
        parse_timestamp(text)
