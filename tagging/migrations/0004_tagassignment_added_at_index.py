"""The tag history list in the admin, newest first and sortable by when a period opened:
an index on (added_at, id), so a page reads its own rows out of millions.

Written as SQL (plain, for both databases) so this index stays out of the way of the model's
declared indexes, which issue 11 is reworking; fold it into `TagAssignment.Meta.indexes` then.
"""

from django.db import migrations

INDEX = "tagging_tagassignment_added_at_id_idx"


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON tagging_tagassignment (added_at, id)"
    )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("tagging", "0003_calibration_timestamp_owned_by_tagging")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
