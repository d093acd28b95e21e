"""`archive_measurements --older-than DURATION`: move old readings out of the live table."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from measurements import clock
from measurements.archiving import (
    ArchiveError,
    check_output,
    readings_archive,
    readings_older_than,
    sink_for,
)
from measurements.durations import DURATION_HELP, DurationError, format_duration, parse_duration

MAX_BATCH_SIZE = 100_000


class Command(BaseCommand):
    help = (
        "Move every reading older than now − DURATION out of the live table, in batches, while "
        "ingestion goes on: into FILE (gzip CSV or JSON Lines, by its name) or, without --output, "
        "into the archive table. Archived readings no longer count in any API answer."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", required=True, metavar="DURATION", help=DURATION_HELP)
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="A new file ending in .csv.gz or .jsonl.gz (never overwritten). "
            "Without it: the archive table.",
        )
        parser.add_argument(
            "--batch-size",
            default="5000",
            metavar="N",
            help=f"Readings per transaction, 1–{MAX_BATCH_SIZE:,} (default 5,000).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Say how many would move; change nothing."
        )

    def handle(
        self,
        *args: Any,
        older_than: str,
        output: str | None,
        batch_size: str,
        dry_run: bool,
        **options: Any,
    ) -> None:
        try:
            age = parse_duration(older_than)
        except DurationError as exc:
            raise CommandError(f"--older-than: {exc}") from None
        size = _batch_size(batch_size)
        cutoff = clock.now() - age
        label = f"older than {format_duration(age)} (before {cutoff.isoformat()})"
        if dry_run:
            # Refuses what the real run would refuse, so a dry run proves the command line.
            if output:
                try:
                    check_output(output)
                except ArchiveError as exc:
                    raise CommandError(f"--output: {exc}") from None
            count = readings_older_than(cutoff).count()
            self.stdout.write(f"Dry run: would archive {count} reading(s) {label}.")
            return
        try:
            sink = sink_for(output)
        except ArchiveError as exc:
            raise CommandError(f"--output: {exc}") from None
        moved = readings_archive(cutoff=cutoff, sink=sink, batch_size=size, progress=self._progress)
        if moved:
            self.stderr.write("")
        where = output or "the archive table"
        self.stdout.write(self.style.SUCCESS(f"Archived {moved} reading(s) {label} into {where}."))

    def _progress(self, moved: int) -> None:
        self.stderr.write(f"\rarchived: {moved}", ending="")


def _batch_size(text: str) -> int:
    try:
        size = int(text)
    except ValueError:
        raise CommandError(f"--batch-size: '{text}' is not a whole number.") from None
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise CommandError(f"--batch-size: must be between 1 and {MAX_BATCH_SIZE:,}.")
    return size
