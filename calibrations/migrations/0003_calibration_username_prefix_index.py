"""The admin's username-prefix search on PostgreSQL: an index on UPPER(username) with
`text_pattern_ops`, which `UPPER(username) LIKE UPPER('al%')` (Django's `istartswith`) can walk
whatever the database's collation. SQLite (the embedded development database) needs none.

Written as SQL rather than a model index: the operator class of an expression index is
PostgreSQL's alone, and SQLite's migrations must not try to build it.
"""

from django.db import migrations

INDEX = "calibrations_calibration_username_upper_prefix_idx"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} "
            "ON calibrations_calibration (UPPER(username::text) text_pattern_ops)"
        )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("calibrations", "0002_calibration_types")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
