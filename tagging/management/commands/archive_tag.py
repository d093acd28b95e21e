"""`archive_tag NAME`: the command face of `POST /api/tags/{tag}/archive`."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tagging.models import Tag, TagAssignment, normalize_tag_name
from tagging.services import tag_archive


class Command(BaseCommand):
    help = (
        "Remove a tag, now, from every calibration that carries it, and say how many. "
        "The history and the tag itself stay. An unknown tag is an error."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The tag's name (any case).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say how many would be removed; change nothing."
        )

    def handle(self, *args: Any, name: str, dry_run: bool, **options: Any) -> None:
        try:
            clean = normalize_tag_name(name)
        except ValidationError as exc:
            raise CommandError(f"Invalid tag name {name!r}: {exc.messages[0]}") from None
        tag = Tag.objects.named(clean).first()
        if tag is None:
            raise CommandError(f"Unknown tag {clean!r}: nothing archived.")
        if dry_run:
            count = TagAssignment.objects.active().filter(tag=tag).count()
            self.stdout.write(f"Dry run: would remove '{tag.name}' from {count} calibration(s).")
            return
        removed = tag_archive(tag=tag, user=None)
        self.stdout.write(
            self.style.SUCCESS(f"Archived '{tag.name}': removed from {removed} calibration(s).")
        )
