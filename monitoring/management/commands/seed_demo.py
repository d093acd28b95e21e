"""Idempotent demo data, each app's from its own `demo` module: here, at the top of the app
order, because it seeds every app (calibration types come from a migration)."""

from collections.abc import Callable
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser, OutputWrapper
from tqdm import tqdm

from calibrations.demo import seed_calibrations, seed_instruments
from measurements.demo import DEFAULT_READINGS_PER_ROOM, DEMO_ROOMS, seed_readings
from monitoring.demo import seed_placements, seed_target

# Runs of fewer rows are over before a bar would help.
PROGRESS_FROM = 2000


def _positive(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError(text)
    return value


class _Unended:
    """The command's stderr as a stream that writes what it is given: a progress bar redraws
    its line with `\r`, and the command's own `write` would end each piece with a newline."""

    def __init__(self, out: OutputWrapper) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text, ending="")

    def flush(self) -> None:
        self.out.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.out, name)  # isatty, fileno, encoding: the stream's own


class Command(BaseCommand):
    help = (
        "Load demo data: calibrations by several users with real tag history, rooms "
        "with a week of temperature readings (one of them in alarm), a notification target writing "
        "to the worker's log, and instruments placed as the rooms' sensors. "
        "Idempotent: "
        "running it again adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--calibrations", type=_positive, default=300, help="How many (default 300)."
        )
        parser.add_argument(
            "--readings",
            type=_positive,
            default=DEFAULT_READINGS_PER_ROOM,
            help=f"Readings per room, one per 10 minutes back from now (default "
            f"{DEFAULT_READINGS_PER_ROOM}: a week).",
        )

    def handle(self, *args: Any, calibrations: int, readings: int, **options: Any) -> None:
        if calibrations > 5_000_000:
            raise CommandError("--calibrations: at most 5,000,000.")
        if readings > 1_000_000:
            raise CommandError("--readings: at most 1,000,000 per room.")
        created = seed_calibrations(
            calibrations, progress=self._progress("calibrations", calibrations)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Calibrations: {created} created, {calibrations - created} already there."
            )
        )
        # The target first: it hears of the alarm the demo readings raise.
        targets = seed_target()
        self.stdout.write(self.style.SUCCESS(f"Notification targets: {targets} created."))
        total = readings * len(DEMO_ROOMS)
        new = seed_readings(readings, progress=self._progress("readings", total))
        self.stdout.write(
            self.style.SUCCESS(f"Readings: {new} created, {total - new} already there.")
        )
        instruments = seed_instruments()
        placements = seed_placements()
        self.stdout.write(
            self.style.SUCCESS(
                f"Instruments: {instruments} registered; placements: {placements} made."
            )
        )

    def _progress(self, label: str, total: int) -> Callable[[int], None]:
        """A progress bar on stderr for runs long enough to need one."""
        bar = tqdm(
            total=total,
            desc=label,
            unit=" rows",
            file=cast(TextIO, _Unended(self.stderr)),
            disable=total < PROGRESS_FROM,
            dynamic_ncols=True,
        )
        shown = 0

        def report(done: int) -> None:
            nonlocal shown
            bar.update(done - shown)
            shown = done
            if done >= total:
                bar.close()

        return report
