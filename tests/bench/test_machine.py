"""The bench's report says whether other work was running when it started (bench/run.py)."""

import multiprocessing
import os
import time

from bench.run import cpu_busy_share


def _spin(seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass


def test_a_machine_with_every_core_spinning_reads_busy() -> None:
    # A lower bound only: the machine may be busier still, never quieter than our own spinners.
    spinners = [
        multiprocessing.get_context("spawn").Process(target=_spin, args=(3.0,))
        for _ in range(os.cpu_count() or 1)
    ]
    for spinner in spinners:
        spinner.start()
    try:
        time.sleep(0.5)  # let them start
        share = cpu_busy_share(1.0)
    finally:
        for spinner in spinners:
            spinner.join()
    assert 0.8 <= share <= 1.0
