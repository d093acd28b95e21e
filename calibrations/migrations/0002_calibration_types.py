"""The calibration types every lab starts with; staff add more in the admin."""

from django.db import migrations

INITIAL_TYPES = [
    ("gain", "", "Amplifier or sensor gain factor."),
    ("offset", "", "Zero offset of a sensor or channel."),
    ("pressure", "Pa", "Pressure reference calibration."),
    ("temperature", "°C", "Temperature reference calibration."),
]


def create_types(apps, schema_editor):
    CalibrationType = apps.get_model("calibrations", "CalibrationType")
    for name, unit, description in INITIAL_TYPES:
        CalibrationType.objects.get_or_create(
            name=name, defaults={"unit": unit, "description": description}
        )


def remove_types(apps, schema_editor):
    CalibrationType = apps.get_model("calibrations", "CalibrationType")
    CalibrationType.objects.filter(
        name__in=[name for name, _, _ in INITIAL_TYPES], calibrations__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("calibrations", "0001_initial")]

    operations = [migrations.RunPython(create_types, remove_types)]
