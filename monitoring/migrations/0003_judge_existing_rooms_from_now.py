"""Rooms that have readings already are judged from their newest reading on: alarms start with
the readings that come after this migration, not with a judgement of every past reading."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def judged_until_newest(apps, schema_editor):  # type: ignore[no-untyped-def]
    Room = apps.get_model("measurements", "Room")
    Measurement = apps.get_model("measurements", "Measurement")
    RoomJudgement = apps.get_model("monitoring", "RoomJudgement")
    # One probe of the readings' (room, timestamp) index per room, not a scan of them all.
    newest = Measurement.objects.filter(room=OuterRef("pk")).order_by("-timestamp")
    rooms = Room.objects.annotate(newest=Subquery(newest.values("timestamp")[:1])).filter(
        newest__isnull=False
    )
    RoomJudgement.objects.bulk_create(
        [RoomJudgement(room_id=room.pk, judged_until=room.newest) for room in rooms],
        batch_size=1000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0002_alarms"),
        ("measurements", "0005_room_alarm_rules"),
    ]

    operations = [migrations.RunPython(judged_until_newest, migrations.RunPython.noop)]
