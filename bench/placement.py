"""Where wrk's kept-alive connections land among gunicorn's workers, and what that does to a
route's latency: gunicorn as deployed (`config/gunicorn.py`, tuned only by `--gunicorn-env`),
one scenario of `bench/run.py` started again and again.

    .venv/bin/python -m bench.placement                 # the two-version excursions, 12 starts
    .venv/bin/python -m bench.placement --starts 8 --gunicorn-env GUNICORN_THREADS=1
    .venv/bin/python -m bench.placement --scenario "rooms list with status (50 a page)"

Needs the loaded default database (`python -m bench.run --load-only`). Each start is a fresh wrk
run (new connections); a few seconds in, `ss` lists the server's established connections by
the worker process that holds each. Prints each start's p50, req/s and connections per worker,
then the median p50 of each placement: with gthread workers a worker accepts whatever the
listening socket offers, busy or not (gunicorn issue #3433), so a few clients can all land on
one process, which then runs their Python in turn (docs/OPERATIONS.md, Sizing).
"""

import argparse
import collections
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import run


def connections_per_worker(port: int) -> list[int]:
    """The established connections of the server on `port`, counted per process, largest first."""
    listed = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pids = collections.Counter(
        line.split("pid=", 1)[1].split(",", 1)[0] for line in listed.splitlines() if "pid=" in line
    )
    return sorted(pids.values(), reverse=True)


def record(into: list[list[int]], port: int) -> None:
    into.append(connections_per_worker(port))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="room excursions 7 days, two range versions")
    parser.add_argument("--starts", type=int, default=12)
    parser.add_argument("--duration", type=int, default=8, help="seconds per start")
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--gunicorn-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()

    run.setup_django("cs_bench")
    data_dir = Path(tempfile.mkdtemp(prefix="cs-placement-"))
    picked = run.samples("cs_bench", data_dir)
    token, session = run.credentials()
    now = datetime.now(UTC)
    env = run.wrk_env(token, session, data_dir, datetime.fromtimestamp(0, UTC), now)
    found = [s for s in run.scenarios(picked) if s.name == args.scenario]
    if not found:
        raise SystemExit(f"no scenario named {args.scenario!r} in bench/run.py")
    scenario = found[0]
    server = run.start_gunicorn(args, env, data_dir / "gunicorn.log")
    by_placement: dict[str, list[float]] = collections.defaultdict(list)
    try:
        run.run_wrk(scenario, args, env, duration=3)  # warm every worker up
        for _ in range(args.starts):
            seen: list[list[int]] = []
            # wrk has opened its connections well before half of its run.
            sampler = threading.Timer(args.duration / 2, record, (seen, args.port))
            sampler.start()
            result = run.run_wrk(scenario, args, env)
            sampler.join()
            p50 = result["p50_us"] / 1000
            placement = "+".join(map(str, seen[0])) if seen and seen[0] else "none seen"
            by_placement[placement].append(p50)
            print(
                f"p50 {p50:5.1f} ms  {result['rps']:5.0f} req/s  connections per worker {placement}"
            )
            time.sleep(0.5)
    finally:
        run.stop(server)
    for placement, p50s in sorted(by_placement.items()):
        print(f"{placement}: {len(p50s)} starts, median p50 {statistics.median(p50s):.1f} ms")


if __name__ == "__main__":
    main()
