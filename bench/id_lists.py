"""The runs that crossed PostgreSQL's 65,535 parameters in one statement, end to end on a fresh
database: README's `seed_demo --calibrations 100000 --readings 20000` (a traceback before ids
were read in batches), run again (idempotent: it must add nothing), and an admin CSV import of
65,536 rows (its preview showed psycopg's traceback after 295 s). Each must answer as a person
expects; the report gives how long each took. Minutes, so not in the suite:
tests/reliability/test_parameter_limit.py crosses the limit cheaply there.

    .venv/bin/python -m bench.id_lists [--database cs_id_lists] [--rows 65536]

Creates (and at the end drops) the database on the test server (`postgres://postgres@
127.0.0.1:5432`, as the suite's), so it runs beside other work without touching it.
"""

import argparse
import io
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER = "postgres://postgres@127.0.0.1:5432"


def psql(command: str) -> None:
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c", command],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def manage(*args: str, env: dict[str, str]) -> tuple[float, str]:
    """`manage.py ARGS` as an operator types it: seconds taken and stdout; fails loudly."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return took, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="cs_id_lists")
    parser.add_argument("--rows", type=int, default=65_536, help="rows of the imported file")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    url = f"{SERVER}/{args.database}"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "false"}
    psql(f"DROP DATABASE IF EXISTS {args.database}")
    psql(f"CREATE DATABASE {args.database}")
    report = Report()
    try:
        manage("migrate", "--no-input", "-v0", env=env)

        took, out = manage("seed_demo", "--calibrations", "100000", "--readings", "20000", env=env)
        assert "Calibrations: 100000 created" in out, out
        assert "Readings: 100000 created" in out, out
        report.add(f"seed_demo --calibrations 100000 --readings 20000: {took:.1f} s")
        took, out = manage("seed_demo", "--calibrations", "100000", "--readings", "20000", env=env)
        assert "Calibrations: 0 created, 100000 already there." in out, out
        report.add(f"the same again (adds no calibration): {took:.1f} s; {' '.join(out.split())}")

        os.environ.update(env, DJANGO_SETTINGS_MODULE="config.settings.test")
        import_rows(args.rows, report)
    finally:
        if not args.keep:
            psql(f"DROP DATABASE IF EXISTS {args.database} WITH (FORCE)")


class Report:
    """Each figure printed as soon as it is measured (a later step may fail)."""

    def add(self, line: str) -> None:
        print(line, flush=True)


def import_rows(count: int, report: Report) -> None:
    """An admin import of `count` new rows (a third of them tagged), in process through the
    admin's own views (Django's test client: no HTTP server in the way), as staff do it:
    upload, preview, confirm."""
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from calibrations.models import Calibration

    admin = User.objects.create_superuser("bench-import", password="bench-import-1")
    client = Client(HTTP_HOST="localhost")
    client.force_login(admin)
    lines = ["calibration_id,calibration_type,value,timestamp,username,tags"]
    lines += [
        f",gain,{1 + i / 1e6},2025-04-01T10:00:00.{i % 1_000_000:06d}Z,importer,"
        + ("imported|bench" if i % 3 == 0 else "")
        for i in range(count)
    ]
    data = io.BytesIO(("\n".join(lines) + "\n").encode())
    data.name = "calibrations.csv"
    before = Calibration.objects.count()

    start = time.perf_counter()
    preview = client.post(
        "/admin/calibrations/calibration/import/",
        {"format": "0", "resource": "0", "import_file": data},
    )
    previewed = time.perf_counter() - start
    page = preview.content.decode()
    report.add(
        f"admin import of {count:,} rows, preview: {previewed:.1f} s "
        f"({count / previewed:,.0f} rows/s), status {preview.status_code}"
    )
    assert preview.status_code == 200, preview.status_code
    assert "Traceback" not in page, page[-2000:]
    assert "number of parameters" not in page, page[-2000:]
    assert "Confirm import" in page, page[-2000:]
    assert Calibration.objects.count() == before  # a preview stores nothing

    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    start = time.perf_counter()
    stored = client.post(
        "/admin/calibrations/calibration/process_import/", {**fields, "confirm": "Confirm import"}
    )
    confirmed = time.perf_counter() - start
    assert stored.status_code == 302, stored.content.decode()[-2000:]
    assert Calibration.objects.count() == before + count
    report.add(
        f"admin import of {count:,} rows, confirm: {confirmed:.1f} s "
        f"({count / confirmed:,.0f} rows/s); {count:,} calibrations stored"
    )


if __name__ == "__main__":
    main()
