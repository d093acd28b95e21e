from django.db import migrations, models

# The copy of each calibration's timestamp on its tag periods is kept by tagging's own code
# from now on (`tags_add` writes it; `follow_calibration_correction` follows corrections):
# the triggers 0002 put on calibrations' table go, and the column becomes NOT NULL.
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS calibrations_calibration_timestamp_to_tags ON calibrations_calibration",
    "DROP FUNCTION IF EXISTS calibrations_calibration_copy_timestamp_to_tags()",
    "DROP TRIGGER IF EXISTS tagging_tagassignment_calibration_timestamp ON tagging_tagassignment",
    "DROP FUNCTION IF EXISTS tagging_tagassignment_copy_calibration_timestamp()",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS calibrations_calibration_timestamp_to_tags",
    "DROP TRIGGER IF EXISTS tagging_tagassignment_calibration_timestamp_update",
    "DROP TRIGGER IF EXISTS tagging_tagassignment_calibration_timestamp_insert",
]
BACKFILL = """
    UPDATE tagging_tagassignment SET calibration_timestamp = (
        SELECT c."timestamp" FROM calibrations_calibration c
        WHERE c.id = tagging_tagassignment.calibration_id
    )
    WHERE calibration_timestamp IS NULL
"""


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(vendor, [])
    for statement in statements:
        schema_editor.execute(statement)
    schema_editor.execute(BACKFILL)


class Migration(migrations.Migration):

    dependencies = [
        ("tagging", "0002_calibration_timestamp"),
    ]

    operations = [
        # Not reversible into triggers: going back leaves the column maintained by the code.
        migrations.RunPython(drop_triggers, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tagassignment",
            name="calibration_timestamp",
            field=models.DateTimeField(editable=False),
        ),
    ]
