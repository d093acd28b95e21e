"""`planner_settings`: PostgreSQL's planner settings for the statements of one transaction."""

import pytest
from django.db import DataError, connection

from config.planner import planner_settings

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]


def show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return str(cursor.fetchone()[0])


def test_the_settings_hold_inside_the_block_and_are_gone_after_it() -> None:
    before = show("plan_cache_mode"), show("jit")
    with planner_settings(plan_cache_mode="force_custom_plan", jit="off"):
        assert connection.in_atomic_block
        assert (show("plan_cache_mode"), show("jit")) == ("force_custom_plan", "off")
    assert (show("plan_cache_mode"), show("jit")) == before
    assert before[0] == "auto"  # prepared statements get generic plans outside


def test_a_failing_statement_inside_leaves_the_connection_usable() -> None:
    with (
        pytest.raises(DataError, match="division by zero"),
        planner_settings(plan_cache_mode="force_custom_plan"),
        connection.cursor() as cursor,
    ):
        cursor.execute("SELECT 1 / 0")
    assert show("plan_cache_mode") == "auto"
