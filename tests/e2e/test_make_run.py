"""README's first command, run as a newcomer runs it: `make run` migrates, seeds, serves, starts
the worker and the demo sensors, the worker prints the demo alarm's notification with a link
to this run's console, and Ctrl-C (SIGINT to the terminal's whole process group) stops all."""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _default_sigint() -> None:
    # A shell started from a terminal gets SIGINT; one started in the background ignores it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_make_run_serves_prints_the_demo_alarm_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    # A newcomer's shell: not inside the suite's virtualenv, none of the suite's settings.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(
            ("DJANGO_", "DATABASE_", "REDIS_", "HUEY_", "SITE_URL", "COV", "VIRTUAL_ENV")
        )
    }
    venv = str(ROOT / ".venv")
    env["PATH"] = os.pathsep.join(
        entry for entry in env.get("PATH", "").split(os.pathsep) if not entry.startswith(venv)
    )
    env.update(
        PORT=str(port),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        HUEY_FILE=str(tmp_path / "huey.sqlite3"),
    )
    log = tmp_path / "make-run.log"
    with log.open("w") as out:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_default_sigint,
        )
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            text = log.read_text()
            if "Alarm: stability-chamber" in text and _answers(f"http://127.0.0.1:{port}/healthz"):
                break
            assert make.poll() is None, text[-3000:]
            time.sleep(1)
        text = log.read_text()
        assert "Alarm: stability-chamber (Stability chamber) high" in text, text[-3000:]
        assert f"http://127.0.0.1:{port}/admin/measurements/room/stability-chamber/change/" in text
        assert "user 'admin', password 'admin'" in text
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGINT)
        try:
            make.wait(timeout=60)
        finally:
            # make returns as the server stops; the worker and the sensors finish their exit.
            for _ in range(30):
                left = subprocess.run(
                    ["pgrep", "-a", "-g", str(make.pid)],
                    capture_output=True,
                    text=True,
                    check=False,
                ).stdout.splitlines()
                if not left:
                    break
                time.sleep(0.5)
            if left:
                os.killpg(make.pid, signal.SIGKILL)
    assert left == [], f"still running after Ctrl-C: {left}"
    assert not _answers(f"http://127.0.0.1:{port}/healthz")
