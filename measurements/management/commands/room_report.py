"""`room_report [--since DURATION] [--room ID ...] [--output FILE.csv]`: each room's range,
statistics and excursions over the last DURATION, as a table or a CSV file."""

import csv
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from config.batches import batched
from measurements import clock
from measurements.durations import (
    DURATION_HELP,
    DurationError,
    format_duration,
    format_span,
    parse_duration,
)
from measurements.models import Room
from measurements.reports import RoomReport, room_report

COLUMNS = [
    "room_id",
    "name",
    "range_min_c",
    "range_max_c",
    "readings",
    "mean_c",
    "time_weighted_c",
    "mkt_c",
    "min_c",
    "max_c",
    "excursions",
    "excursions_started_before",
    "time_outside_s",
    "time_outside",
    "from",
    "to",
]


class Command(BaseCommand):
    help = (
        "Per room, over the last DURATION (default 7 days): its acceptable range (in force at "
        "the end), how many readings, their mean, time-weighted average and mean kinetic "
        "temperature, min and max (°C), and its excursions outside the range in force at each "
        "reading (how many, how many had begun before the window, and the total time outside "
        "within it). A table on stdout, or CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since", default="P7D", metavar="DURATION", help=f"Default 7 days. {DURATION_HELP}"
        )
        parser.add_argument(
            "--room",
            dest="rooms",
            nargs="+",
            action="extend",
            default=[],
            metavar="ID",
            help="Only these rooms (repeatable); default every room.",
        )
        parser.add_argument(
            "--output",
            metavar="FILE.csv",
            help="Write CSV to this new file (never overwritten) instead of a table on stdout.",
        )

    def handle(
        self, *args: Any, since: str, rooms: list[str], output: str | None, **options: Any
    ) -> None:
        try:
            span = parse_duration(since)
        except DurationError as exc:
            raise CommandError(f"--since: {exc}") from None
        path = _check_output(output) if output is not None else None
        chosen = _rooms(rooms)
        end = clock.now()
        start = end - span
        reports = [room_report(room, start, end) for room in chosen]
        if path is None:
            self._table(reports, start, end, span)
            return
        try:
            # "x": created here and now, so a file that appeared meanwhile is not overwritten.
            with path.open("x", newline="", encoding="utf-8") as file:
                _write_csv(file, reports, start, end)
        except OSError as exc:
            raise CommandError(f"--output: {exc.strerror or exc}: {path}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {len(reports)} room(s) over {format_duration(span)} to {path}."
            )
        )

    def _table(
        self, reports: list[RoomReport], start: datetime, end: datetime, span: timedelta
    ) -> None:
        self.stdout.write(
            f"Rooms over the last {format_duration(span)}: {start.isoformat()} to "
            f"{end.isoformat()} (°C)"
        )
        header = [
            "room",
            "range",
            "readings",
            "mean",
            "time-weighted",
            "mkt",
            "min",
            "max",
            "excursions",
            "began before",
            "outside",
        ]
        rows = [
            [
                r.room_id,
                "-" if r.min_c is None else f"{r.min_c:g}–{r.max_c:g}",
                str(r.readings),
                _number(r.mean),
                _number(r.time_weighted),
                _number(r.mkt),
                _number(r.low),
                _number(r.high),
                str(r.excursions) if r.judged else "-",
                str(r.started_before) if r.judged else "-",
                _span(r.time_outside) if r.judged else "-",
            ]
            for r in reports
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for index, row in enumerate([header, *rows]):
            cells = [
                cell.ljust(width) if i < 2 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            self.stdout.write("  ".join(cells).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        if not rows:
            self.stdout.write("(no rooms)")


def _rooms(ids: list[str]) -> list[Room]:
    if not ids:
        return list(Room.objects.order_by("room_id"))
    found = {
        room.room_id: room
        for batch in batched(dict.fromkeys(ids))
        for room in Room.objects.filter(room_id__in=batch)
    }
    unknown = [room_id for room_id in dict.fromkeys(ids) if room_id not in found]
    if unknown:
        raise CommandError(f"--room: unknown room(s): {', '.join(unknown)}.")
    return [found[room_id] for room_id in dict.fromkeys(ids)]


def _check_output(output: str) -> Path:
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


def _write_csv(file: TextIO, reports: list[RoomReport], start: datetime, end: datetime) -> None:
    writer = csv.writer(file)
    writer.writerow(COLUMNS)
    for r in reports:
        has_range = r.judged
        writer.writerow(
            [
                r.room_id,
                r.name,
                _csv(r.min_c),
                _csv(r.max_c),
                r.readings,
                _csv(r.mean),
                _csv(r.time_weighted),
                _csv(r.mkt),
                _csv(r.low),
                _csv(r.high),
                r.excursions if has_range else "",
                r.started_before if has_range else "",
                repr(r.time_outside.total_seconds()) if has_range else "",
                format_duration(r.time_outside) if has_range else "",
                start.isoformat(),
                end.isoformat(),
            ]
        )


def _csv(value: float | None) -> str:
    return "" if value is None else repr(value)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _span(delta: timedelta) -> str:
    return "0" if not delta else format_span(delta)
