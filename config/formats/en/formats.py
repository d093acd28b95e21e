"""Date formats of the operator console: ISO-like, and every time says its zone (UTC)."""

# `T` is the zone's abbreviation ("UTC"): staff in other zones read the times as UTC, and
# the admin's list columns stay one short line.
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i:s"
