"""Tag names unique case-insensitively on both databases: a stored key (Unicode's canonical
caseless form of the name) under the unique constraint, instead of UPPER(name), which SQLite
applies to ASCII letters only (so "Ärger" and "ärger" could both be stored there).

Existing tags whose keys collide (two spellings of one tag, stored before this rule held) are
merged into the oldest, whose spelling is kept, as DESIGN §3 keeps a tag's first spelling.
The other spellings' periods move to it; where two periods of one calibration overlap, they
become one period from the earliest `added_at` to the latest `removed_at` (open if either is),
so "carried X at T" answers what it answered for either spelling. Each merge is printed.
docs/admin.md ("Tags that differ only in case") says what an operator sees.
"""

import unicodedata
from collections import defaultdict

from django.db import migrations, models

import tagging.models


def key(name: str) -> str:
    # `tagging.models.tag_key` as this migration was written (a migration must not change
    # when the code does).
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", name).casefold())


def fill_keys_and_merge(apps, schema_editor):  # type: ignore[no-untyped-def]
    Tag = apps.get_model("tagging", "Tag")
    TagAssignment = apps.get_model("tagging", "TagAssignment")
    groups = defaultdict(list)
    for tag in Tag.objects.order_by("created_at", "id").only("id", "name", "created_at"):
        groups[key(tag.name)].append(tag)
    keyed = []
    for name_key, (keeper, *others) in groups.items():
        keeper.name_key = name_key
        keyed.append(keeper)
        if others:
            merge(TagAssignment, keeper, others)
            Tag.objects.filter(pk__in=[t.pk for t in others]).delete()
    Tag.objects.bulk_update(keyed, ["name_key"], batch_size=1000)
    if schema_editor.connection.vendor == "postgresql":
        # The merges' foreign key checks are deferred to the commit; PostgreSQL will not alter
        # the table (the constraints below) while they are pending, so run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def merge(TagAssignment, keeper, others):  # type: ignore[no-untyped-def]
    """Move the periods of `others` to `keeper`, joining the ones that overlap."""
    tag_ids = [keeper.pk, *(t.pk for t in others)]
    calibrations = (
        TagAssignment.objects.filter(tag_id__in=[t.pk for t in others])
        .values_list("calibration_id", flat=True)
        .distinct()
    )
    for calibration_id in list(calibrations):
        periods = TagAssignment.objects.filter(
            calibration_id=calibration_id, tag_id__in=tag_ids
        ).order_by("added_at", "id")
        kept, absorbed, extended = [], [], set()
        for period in periods:
            last = kept[-1] if kept else None
            if last is not None and (last.removed_at is None or period.added_at < last.removed_at):
                if last.removed_at is not None and (
                    period.removed_at is None or period.removed_at > last.removed_at
                ):
                    last.removed_at, last.removed_by_id = period.removed_at, period.removed_by_id
                    extended.add(last.pk)
                absorbed.append(period.pk)
                continue
            kept.append(period)
        # The absorbed periods go first: a period extended to open-ended must not meet another
        # open one of the same tag on the way.
        TagAssignment.objects.filter(pk__in=absorbed).delete()
        for period in kept:
            if period.pk in extended:
                period.save(update_fields=["removed_at", "removed_by"])
        # Moved only now: two open periods of one calibration may not share a tag meanwhile.
        TagAssignment.objects.filter(pk__in=[p.pk for p in kept]).update(tag_id=keeper.pk)
    print(
        f"\n  Merged the tags {', '.join(repr(t.name) for t in others)} into "
        f"{keeper.name!r}: their names differ only in case.",
    )


class Migration(migrations.Migration):
    dependencies = [("tagging", "0004_tagassignment_added_at_index")]

    operations = [
        migrations.RemoveConstraint(model_name="tag", name="tagging_tag_name_unique_ci"),
        migrations.AddField(
            model_name="tag",
            name="name_key",
            field=tagging.models.CodePointCharField(default="", editable=False, max_length=300),
            preserve_default=False,
        ),
        migrations.RunPython(fill_keys_and_merge, migrations.RunPython.noop),
        migrations.AlterModelOptions(name="tag", options={"ordering": ["name_key"]}),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.UniqueConstraint(
                fields=("name_key",),
                name="tagging_tag_name_unique_ci",
                violation_error_message="A tag with this name already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="tag",
            constraint=models.CheckConstraint(
                condition=~models.Q(name_key=""),
                name="tagging_tag_name_key_set",
                violation_error_message="A tag's case-insensitive key was not computed.",
            ),
        ),
    ]
