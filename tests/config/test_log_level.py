"""LOG_LEVEL is read whatever its case: a lower-case level must not stop the service booting."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("level", ["warning", "WARNING", "Info"])
def test_the_service_boots_and_logs_at_a_level_given_in_any_case(level: str) -> None:
    env = {**os.environ, "LOG_LEVEL": level, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    script = "import django, logging; django.setup(); print(logging.getLogger().level)"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) == logging.getLevelName(level.upper())
