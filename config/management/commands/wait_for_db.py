"""The entrypoint's first step: wait until the database accepts connections."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.utils import OperationalError


class Command(BaseCommand):
    help = (
        "Wait until the database accepts connections and answers a query, or fail after "
        "--timeout seconds with the last error. The container's entrypoint runs it before "
        "migrating, because PostgreSQL may still be starting."
    )
    # System checks do not need the database, and a broken setting should surface as the error.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--timeout", type=float, default=60.0, help="seconds to wait in all (default 60)"
        )
        parser.add_argument(
            "--interval", type=float, default=1.0, help="seconds between attempts (default 1)"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="connection alias")

    def handle(
        self, *args: Any, timeout: float, interval: float, database: str, **options: Any
    ) -> None:
        if timeout < 0:
            raise CommandError("--timeout must be 0 or more seconds.")
        if interval <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        if database not in connections:
            raise CommandError(f"Unknown database alias {database!r}.")
        connection = connections[database]
        where = _describe(connection.settings_dict)
        start = time.monotonic()
        attempts = 0
        while True:
            attempts += 1
            try:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
                break
            except OperationalError as exc:
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
                connection.close()
                elapsed = time.monotonic() - start
                if elapsed + interval > timeout:
                    raise CommandError(
                        f"Database {where} did not answer within {timeout:g} s "
                        f"({attempts} attempts). Last error: {reason}"
                    ) from exc
                if attempts == 1:
                    self.stdout.write(f"Waiting for database {where}: {reason}")
                time.sleep(interval)
        elapsed = time.monotonic() - start
        self.stdout.write(self.style.SUCCESS(f"Database {where} is ready ({elapsed:.1f} s)."))


def _describe(settings_dict: dict[str, Any]) -> str:
    """Where the database is, for messages: never the password."""
    engine = str(settings_dict.get("ENGINE", "")).rsplit(".", 1)[-1]
    name = settings_dict.get("NAME") or ""
    if engine == "sqlite3":
        return f"sqlite3 {name}"
    host = settings_dict.get("HOST") or "localhost"
    port = settings_dict.get("PORT") or ""
    return f"{engine} {host}{':' if port else ''}{port}/{name}"
