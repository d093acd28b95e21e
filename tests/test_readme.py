"""README.md's examples, followed literally against a live server (DESIGN §8).

Every `curl` in README's `sh` blocks runs, in README order, through bash against a live
server, with `$API`, `$TOKEN` and `$SENSOR_TOKEN` set as README's setup block sets them. The
answer written under a command (`# 201 {…}`) or beside it (`# [...]`) is checked: the status,
and every key and value written (`"…"` matches any value, a trailing `…` in a list any further
items). README's placeholders (`<id>`, `<instant>`, `<placement>`, `<found>`, `<alarm>`) are what
README says they are.
"""

import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from calibrations.demo import DEMO_CHECK_LIMITS, DEMO_CHECK_TYPE, DEMO_TAGS
from tests.factories import CalibrationTypeFactory

README = Path(__file__).resolve().parents[1] / "README.md"
ANY = "…"
WRITTEN_HOST = "http://127.0.0.1:8000"

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


@dataclass
class Example:
    command: str
    line: int
    status: int | None = None
    body: Any = field(default=None)
    has_body: bool = False


def sh_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Each ```sh block of the README: its first line number and its lines."""
    blocks, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            start, body = i + 2, []
            i += 1
            while lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            blocks.append((start, body))
        i += 1
    return blocks


def _quotes_open(text: str) -> bool:
    return text.count("'") % 2 == 1


def _split_inline_comment(command: str) -> tuple[str, str]:
    match = re.search(r"\s+#\s(.*)$", command)
    if match and not _quotes_open(command[: match.start()]):
        return command[: match.start()], match.group(1)
    return command, ""


def _parse_answer(text: str) -> tuple[int | None, Any, bool]:
    """`201 {…}`, `{…}`, `[…]` or `200` → (status, JSON, whether a JSON was written)."""
    match = re.match(r"(\d{3})\b\s*", text)
    status = int(match.group(1)) if match else None
    rest = text[match.end() :] if match else text
    if not rest.startswith(("{", "[")):
        return status, None, False
    # A bare … stands for any value: make it the JSON string "…".
    rest = re.sub(r'(?<!")…(?!")', f'"{ANY}"', rest)
    body, _ = json.JSONDecoder().raw_decode(rest)
    return status, body, True


def examples() -> list[Example]:
    """The README's curl commands with the answers written for them."""
    found = []
    for start, lines in sh_blocks(README.read_text()):
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.lstrip().startswith("curl "):
                i += 1
                continue
            number, command = start + i, line
            while command.endswith("\\") or _quotes_open(command):
                i += 1
                command = (command[:-1] if command.endswith("\\") else command + "\n") + lines[i]
            i += 1
            command, inline = _split_inline_comment(command)
            comment = []
            while i < len(lines) and lines[i].startswith("#"):
                comment.append(lines[i][1:].strip())
                i += 1
            example = Example(command=command.strip(), line=number)
            for text in (inline, " ".join(comment)):
                status, body, has_body = _parse_answer(text)
                if status is not None or has_body:
                    example.status, example.body, example.has_body = status, body, has_body
                    break
            found.append(example)
    return found


def matches(written: Any, actual: Any, path: str = "$") -> list[str]:
    """Where `actual` departs from what README wrote (empty when it does not)."""
    if written == ANY:
        return []
    if isinstance(written, dict):
        if not isinstance(actual, dict):
            return [f"{path}: README shows an object, the answer is {actual!r}"]
        problems = []
        for key, value in written.items():
            if key not in actual:
                problems.append(f"{path}.{key}: in README, not in the answer")
            else:
                problems += matches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(written, list):
        if not isinstance(actual, list):
            return [f"{path}: README shows a list, the answer is {actual!r}"]
        more = bool(written) and written[-1] == ANY
        items = written[:-1] if more else written
        if len(actual) < len(items) or (not more and len(actual) != len(items)):
            return [f"{path}: README shows {len(items)} item(s), the answer has {len(actual)}"]
        return [p for i, w in enumerate(items) for p in matches(w, actual[i], f"{path}[{i}]")]
    return [] if written == actual else [f"{path}: README shows {written!r}, got {actual!r}"]


def run(command: str, env: dict[str, str]) -> tuple[int, Any]:
    """A README command through bash, as a reader would paste it; (status, parsed body)."""
    traced = command.replace("curl ", "curl -w '\\n%{http_code}' ", 1)
    done = subprocess.run(
        ["bash", "-c", traced], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    body, _, status = done.stdout.rpartition("\n")
    assert status.isdigit(), f"curl failed: {done.stderr or done.stdout}"
    if not body.strip():
        return int(status), None
    try:
        return int(status), json.loads(body)
    except json.JSONDecodeError:
        # A file, not a JSON document (the snapshot's CSV or JSON Lines): kept as text.
        return int(status), body


def test_readme_sets_up_the_accounts_and_the_url_its_examples_use() -> None:
    text = README.read_text()
    assert "TOKEN=$(.venv/bin/python manage.py create_api_user alice)" in text
    assert (
        "SENSOR_TOKEN=$(.venv/bin/python manage.py create_api_user lab-1-sensor --sensor)" in text
    )
    # `make run` serves on $PORT when it is set: the examples follow it.
    assert "API=http://127.0.0.1:${PORT:-8000}/api" in text


def test_readme_archives_a_tag_the_demo_data_has() -> None:
    names = re.findall(r"archive_tag (\S+)", README.read_text())
    assert names
    assert all(name in DEMO_TAGS for name in names), names


def test_every_curl_example_of_the_readme_answers_as_written(
    live_server: Any, transactional_db: None
) -> None:
    def token(*args: str) -> str:
        out = io.StringIO()
        call_command("create_api_user", *args, stdout=out, stderr=io.StringIO())
        return out.getvalue().strip()

    # A transactional test may start after another emptied the tables the migrations filled.
    for name in ("gain", "offset", "pressure", "temperature"):
        CalibrationTypeFactory(name=name)
    # The type README's instrument examples use, as `make run`'s demo data has it.
    CalibrationTypeFactory(
        name=DEMO_CHECK_TYPE,
        lower_limit=DEMO_CHECK_LIMITS[0],
        upper_limit=DEMO_CHECK_LIMITS[1],
    )
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "API": f"{live_server.url}/api",
        "TOKEN": token("alice"),
        "SENSOR_TOKEN": token("lab-1-sensor", "--sensor"),
    }
    found = examples()
    assert len(found) >= 20, "README's curl examples were not found"
    placeholders: dict[str, str] = {}
    failures = []
    for example in found:
        command = example.command
        for name, value in placeholders.items():
            command = command.replace(name, value)
        assert "<" not in command.replace("<<", ""), f"README line {example.line}: {command}"
        status, body = run(command, env)
        if example.status is not None:
            if status != example.status:
                failures.append(
                    f"line {example.line}: status {status}, README says {example.status}"
                )
        elif not 200 <= status < 300:
            failures.append(f"line {example.line}: status {status}: {body}")
        if example.has_body:
            written = json.loads(json.dumps(example.body).replace(WRITTEN_HOST, live_server.url))
            failures += [f"line {example.line}: {p}" for p in matches(written, body)]
        # What README's prose says the placeholders are.
        if "<id>" not in placeholders and "/calibrations -H" in command and "-X POST" in command:
            assert status == 201, f"README line {example.line}: {status} {body}"
            placeholders["<id>"] = body["calibration_id"]
        if '{"tag": "current-state"}' in command:
            assert status == 201, f"README line {example.line}: {status} {body}"
            placeholders["<instant>"] = body["added_at"]
        if "<placement>" not in placeholders and "/placements -H" in command and status == 201:
            placeholders["<placement>"] = str(body["id"])
        listed = "/alarms?" in command and status == 200 and body["results"]
        if "<alarm>" not in placeholders and listed:
            placeholders["<alarm>"] = str(body["results"][0]["id"])
        judged_out = '"in_tolerance": false' in json.dumps(body or {})
        if "<found>" not in placeholders and judged_out and "/calibrations -H" in command:
            placeholders["<found>"] = body["calibration_id"]
    assert not failures, "\n".join(failures)
