"""`calibrations_due [--within DURATION] [--output FILE.csv]`: the instruments out of tolerance,
overdue, or due within DURATION (default 30 days), soonest first, as a table or a CSV file.
Exit status 0 whether or not any is due: a report, not a check."""

import csv
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from calibrations.models import Instrument, InstrumentStatus
from calibrations.selectors import instruments_needing_attention
from measurements.durations import DURATION_HELP, DurationError, format_duration, parse_duration

COLUMNS = [
    "instrument_id",
    "name",
    "kind",
    "status",
    "needed_since",
    "due_at",
    "calibration_interval_days",
    "last_calibration_id",
    "last_calibration_at",
    "last_in_tolerance",
]


class Command(BaseCommand):
    help = (
        "The instruments that need a calibration or a decision: out of tolerance, overdue, or "
        "due within DURATION (default 30 days), soonest first (an out-of-tolerance one from "
        "the calibration that found it so). A table on stdout, or CSV. Exit status 0 either way."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--within", default="P30D", metavar="DURATION", help=f"Default 30 days. {DURATION_HELP}"
        )
        parser.add_argument(
            "--output",
            metavar="FILE.csv",
            help="Write CSV to this new file (never overwritten) instead of a table on stdout.",
        )

    def handle(self, *args: Any, within: str, output: str | None, **options: Any) -> None:
        try:
            span = parse_duration(within)
        except DurationError as exc:
            raise CommandError(f"--within: {exc}") from None
        path = _new_csv(output) if output is not None else None
        now = timezone.now()
        rows = list(instruments_needing_attention(at=now, within=span))
        if path is None:
            self._table(rows, now, format_duration(span))
            return
        try:
            # "x": created here and now, so a file that appeared meanwhile is not overwritten.
            with path.open("x", newline="", encoding="utf-8") as file:
                writer = csv.writer(file)
                writer.writerow(COLUMNS)
                writer.writerows(_csv_row(row) for row in rows)
        except OSError as exc:
            raise CommandError(f"--output: {exc.strerror or exc}: {path}") from None
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(rows)} instrument(s) to {path}."))

    def _table(self, rows: list[Instrument], now: datetime, within: str) -> None:
        self.stdout.write(
            f"Instruments out of tolerance, overdue or due within {within} of {_utc(now)}:"
        )
        if not rows:
            self.stdout.write(self.style.SUCCESS("None: every instrument is in order."))
            return
        header = ["instrument", "status", "since / due (UTC)", "last calibration (UTC)", "name"]
        lines = [
            [
                row.instrument_id,
                InstrumentStatus(row.status).label,  # type: ignore[attr-defined]
                _utc(row.needed_since),  # type: ignore[attr-defined]
                _utc(row.last_calibration_timestamp),  # type: ignore[attr-defined]
                row.name,
            ]
            for row in rows
        ]
        widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
        for index, line in enumerate([header, *lines]):
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(line, widths, strict=True)
                ).rstrip()
            )
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))


def _utc(moment: datetime | None) -> str:
    return "-" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _csv_row(row: Any) -> list[Any]:
    judged = row.last_calibration_in_tolerance
    return [
        row.instrument_id,
        row.name,
        row.kind,
        row.status,
        _iso(row.needed_since),
        _iso(row.due_at),
        "" if row.calibration_interval_days is None else row.calibration_interval_days,
        row.last_calibration_id or "",
        _iso(row.last_calibration_timestamp),
        "" if judged is None else str(judged).lower(),
    ]


def _new_csv(output: str) -> Path:
    """The output path, if it names a new .csv file in a writable folder."""
    path = Path(output)
    if path.suffix.lower() != ".csv":
        raise CommandError(f"--output: {path}: the name must end in .csv.")
    if path.exists() or path.is_symlink():
        raise CommandError(f"--output: {path}: already exists; reports are never overwritten.")
    if not path.parent.is_dir():
        raise CommandError(f"--output: {path}: no such folder.")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise CommandError(f"--output: {path}: permission denied.")
    return path
