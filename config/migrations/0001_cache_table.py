"""The database cache's table, so a deployment that only runs `migrate` can throttle.

The table is made whatever CACHES says today (a deployment may move between Redis and the
database), by Django's own `createcachetable` with the table named, which does nothing when
the table is there already (and the test runner's own `createcachetable` then finds it).
"""

from django.core.management import call_command
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# CACHES' LOCATION in config/settings/base.py names the same table.
TABLE = "django_cache"


def create_cache_table(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    alias = schema_editor.connection.alias
    call_command("createcachetable", TABLE, database=alias, verbosity=0)


def drop_cache_table(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    quote = schema_editor.connection.ops.quote_name
    schema_editor.execute(f"DROP TABLE IF EXISTS {quote(TABLE)}")


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [migrations.RunPython(create_cache_table, drop_cache_table, elidable=False)]
