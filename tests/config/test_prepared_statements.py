"""PostgreSQL plans a statement a connection repeats once, not on every request.

Django 5.2 turns psycopg's preparing off unless the settings ask for it; ours do, with
server-side binding, and `DATABASE_SERVER_SIDE_BINDING=false` turns both off (PgBouncer before
1.21 in transaction mode). docs/OPERATIONS.md lists the variable.
"""

import pytest
from django.db import connection

from calibrations.models import Instrument
from tests.config.test_deployment import PRODUCTION_ENV, production_settings

POSTGRES_ENV = {**PRODUCTION_ENV, "DATABASE_URL": "postgres://lab@db.example.org:5432/lab"}


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgresql
@pytest.mark.django_db
def test_a_query_a_connection_repeats_is_prepared_and_planned_once() -> None:
    def lookup() -> list[Instrument]:
        return list(Instrument.objects.filter(instrument_id="probe-7"))

    for _ in range(4):
        lookup()
    assert not [s for s in prepared_statements() if "calibrations_instrument" in s]
    lookup()  # the fifth time
    lookup()
    prepared = [s for s in prepared_statements() if "calibrations_instrument" in s]
    assert len(prepared) == 1
    assert "$1" in prepared[0]  # the value is bound, not part of the statement's text


def test_the_variable_turns_binding_and_preparing_off_together_on_both_connections() -> None:
    def options(env: dict[str, str]) -> list[dict[str, object]]:
        env = {**env, "DATABASE_REPLICA_URL": "postgres://lab@replica.example.org:5432/lab"}
        databases = production_settings(env, "DATABASES")["DATABASES"]
        return [databases[alias]["OPTIONS"] for alias in ("default", "replica")]  # type: ignore[index]

    for on in options(POSTGRES_ENV):
        assert (on["server_side_binding"], on["prepare_threshold"]) == (True, 5)
        assert on["connect_timeout"] == 5
    for off in options({**POSTGRES_ENV, "DATABASE_SERVER_SIDE_BINDING": "false"}):
        assert "server_side_binding" not in off
        assert "prepare_threshold" not in off
        assert off["connect_timeout"] == 5
