"""JSON log lines for production: one object per line on stdout, for a log collector."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

# gunicorn hands its access logger the request's "atoms" as the record's mapping args.
_ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "f": "referer",
    "a": "user_agent",
}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, and what is known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            for atom, field in _ACCESS_FIELDS.items():
                if atoms.get(atom) not in (None, "", "-"):
                    entry[field] = atoms[atom]
            # A number, as Django's request loggers give it, so one query finds both.
            if str(entry.get("status", "")).isdigit():
                entry["status"] = int(entry["status"])
            if isinstance(atoms.get("D"), int):
                entry["duration_ms"] = round(atoms["D"] / 1000, 3)
        # Django's request loggers attach the response's status code.
        status_code = getattr(record, "status_code", None)
        if status_code is not None:
            entry["status"] = status_code
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str)
