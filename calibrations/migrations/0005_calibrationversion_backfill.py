"""Every calibration made before the audit trail existed gets its version 1 (DESIGN §4.2)."""

from typing import Any

from django.db import migrations


def backfill_versions(apps: Any, schema_editor: Any) -> None:
    """Version 1 of each calibration that has none, from its current fields: `changed_at` its
    `created_at`, `changed_by` its `created_by`'s username (null when there is none).

    One INSERT … SELECT, so a table of millions is filled by the database without a row
    passing through Python; the NOT EXISTS makes it safe to run again.
    """
    calibration = apps.get_model("calibrations", "Calibration")
    version = apps.get_model("calibrations", "CalibrationVersion")
    user = calibration._meta.get_field("created_by").related_model
    q = schema_editor.quote_name
    c, v, u = q(calibration._meta.db_table), q(version._meta.db_table), q(user._meta.db_table)
    user_name = q(user._meta.get_field("username").column)
    if schema_editor.connection.vendor == "postgresql":
        # Statistics of the new table first: without them the planner may test NOT EXISTS
        # with a nested loop per calibration (minutes on a million rows instead of seconds).
        schema_editor.execute(f"ANALYZE {v}")
    schema_editor.execute(
        f"INSERT INTO {v} (calibration_id, {q('version')}, {q('change')}, changed_at, changed_by,"
        f" reason, calibration_type_id, {q('value')}, {q('timestamp')}, username)"
        f" SELECT c.id, 1, 'created', c.created_at, u.{user_name}, '', c.calibration_type_id,"
        f" c.{q('value')}, c.{q('timestamp')}, c.username"
        f" FROM {c} c LEFT JOIN {u} u ON u.{q(user._meta.pk.column)} = c.created_by_id"
        f" WHERE NOT EXISTS (SELECT 1 FROM {v} v WHERE v.calibration_id = c.id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("calibrations", "0004_calibrationversion"),
    ]

    operations = [
        # Nothing to undo: going back drops the table (0003's reverse).
        migrations.RunPython(backfill_versions, migrations.RunPython.noop),
    ]
