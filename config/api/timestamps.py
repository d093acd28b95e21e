"""One parser for every timestamp a client sends, in a body or in a query string."""

import re
from datetime import UTC, datetime

# In a query string an unencoded `+` arrives as a space: `…T10:00:00 00:00` means `+00:00`.
_SPACE_FOR_PLUS = re.compile(r"(T\d{2}(?::?\d{2}(?::?\d{2}(?:[.,]\d+)?)?)?) (\d{2}(?::?\d{2})?)$")

TIMESTAMP_HELP = (
    "ISO 8601 timestamp with an offset or `Z` (e.g. `2025-04-01T10:00:00.123456Z`); "
    "no offset means UTC."
)


# What clients send nearly always (`2025-04-01T10:00:00Z`, `…:00.123456+02:00`): text every
# check below would pass unchanged, so it goes straight to the parser. A 10,000-reading array
# spent most of its parsing time in those checks.
_PLAIN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")


class TimestampError(ValueError):
    """The text is not an ISO 8601 timestamp we accept."""


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO 8601 timestamp to an aware UTC datetime; no offset means UTC."""
    if not isinstance(text, str):
        raise TimestampError("Expected an ISO 8601 timestamp string.")
    if _PLAIN.fullmatch(text):
        try:
            return datetime.fromisoformat(text).astimezone(UTC)
        except (ValueError, OverflowError):
            pass  # e.g. month 13, or beyond the year 9999 in UTC: the full path says why
    candidate = _SPACE_FOR_PLUS.sub(r"\1+\2", text.strip())
    # A bare date or time is too easy to get wrong; ask for a full instant.
    # Python's parser lets some stray characters through (a trailing NUL); we do not.
    if not (candidate.isascii() and candidate.isprintable()):
        raise TimestampError(f"{text!r} is not an ISO 8601 timestamp such as 2025-04-01T10:00:00Z.")
    if "T" not in candidate.upper() or len(candidate) > 64:
        raise TimestampError("Expected an ISO 8601 date and time such as 2025-04-01T10:00:00Z.")
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        raise TimestampError(
            f"'{text}' is not an ISO 8601 timestamp such as 2025-04-01T10:00:00Z."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise TimestampError(f"'{text}' is out of the supported range.") from None
