"""The calibrations' files in the console: the CSV export of the list as filtered, the snapshot
as of an instant (the file of `GET /api/snapshot`), and the CSV import with its preview."""

from collections.abc import Iterator
from datetime import UTC
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from import_export.admin import ImportMixin

from config.api.fields import utc_iso
from tagging.selectors import tag_names_by_calibration

from ..imports import CalibrationCSV, CalibrationImportResource, ImportFileError
from ..models import Calibration
from ..snapshot import CHUNK, SNAPSHOT_FORMATS, csv_block, snapshot_parts, snapshot_response
from .forms import SnapshotForm


class CalibrationFilesAdmin(ImportMixin, admin.ModelAdmin[Calibration]):
    """The calibrations changelist's files: export, snapshot, import (django-import-export: a
    preview that lists every bad row, then all rows or none)."""

    resource_classes = [CalibrationImportResource]
    import_formats = [CalibrationCSV]
    import_export_change_list_template = "admin/calibrations/calibration/change_list.html"
    # Every problem written out, at the file's line, instead of behind a badge's hover.
    import_template_name = "admin/calibrations/calibration/import.html"

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="{}_{}_export".format(*info),
            ),
            path(
                "snapshot/",
                self.admin_site.admin_view(self.snapshot_view),
                name="{}_{}_snapshot".format(*info),
            ),
            *super().get_urls(),
        ]

    def export_view(self, request: HttpRequest) -> HttpResponseBase:
        """The calibrations of the changelist as filtered (its query string), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).values_list(
            "id", "calibration_type__name", "value", "timestamp", "username", "instrument_id"
        )
        now = timezone.now()
        return calibrations_csv_response(
            rows,
            tags_of=lambda ids: tag_names_by_calibration(ids, as_of=now),
            filename=f"calibrations-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv",
        )

    def snapshot_view(self, request: HttpRequest) -> HttpResponseBase:
        """A form for "the records as of T"; submitted, the same file as `GET /api/snapshot`."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = SnapshotForm(
            request.GET if "download" in request.GET else None,
            initial={
                "tag": request.GET.get("tag", ""),
                "timestamp": request.GET.get("timestamp", ""),
            },
        )
        if form.is_bound and form.is_valid():
            options = form.cleaned_data
            as_of = options["timestamp"] or timezone.now()
            ctype = options["calibration_type"]
            parts = snapshot_parts(
                as_of=as_of,
                tag=options["tag"],
                calibration_type=ctype.name if ctype else None,
                username=options["username"] or None,
            )
            return snapshot_response(parts, as_of=as_of, fmt=options["format"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Snapshot: the records as of an instant",
            "opts": self.opts,
            "form": form,
            "formats": SNAPSHOT_FORMATS,
        }
        return TemplateResponse(request, "admin/calibrations/calibration/snapshot.html", context)

    def add_data_read_fail_error_to_form(self, form: Any, e: Exception) -> None:
        # Our reader says where and why; django-import-export's message named only the
        # exception's class ("'InvalidDimensions' encountered…").
        if isinstance(e, ImportFileError):
            form.add_error("import_file", str(e))
            return
        if isinstance(e, UnicodeDecodeError):
            form.add_error(
                "import_file",
                "The file is not UTF-8 text. Save it as CSV in UTF-8 (a spreadsheet's “CSV "
                "UTF-8”) and import it again.",
            )
            return
        super().add_data_read_fail_error_to_form(form, e)

    def has_import_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("calibrations.add_calibration"))

    def process_result(self, result: Any, request: HttpRequest) -> HttpResponse:
        # The import rolled back (a row went bad between the preview and the confirmation):
        # nothing was stored, and the message must not say otherwise.
        if result.has_errors() or result.has_validation_errors():
            self.message_user(
                request,
                "Nothing was imported: a row was refused. Import the file again to see which.",
                messages.ERROR,
            )
            info = self.opts.app_label, self.opts.model_name
            return HttpResponseRedirect(reverse("admin:{}_{}_import".format(*info)))
        response: HttpResponse = super().process_result(result, request)
        return response


def calibrations_csv_response(
    rows: QuerySet[Any], *, tags_of: Any, filename: str
) -> StreamingHttpResponse:
    """A CSV file (the snapshot's columns and the instrument's) of calibration value rows
    `(id, type name, value, timestamp, username, instrument id)`; `tags_of(ids)` gives each
    chunk's tag names ({id: sorted names}) in one query."""

    def chunks() -> Iterator[str]:
        yield csv_block([], header=True, instrument=True)
        block: list[tuple[Any, ...]] = []
        with transaction.atomic(using=rows.db):
            for raw in rows.iterator(chunk_size=CHUNK):
                block.append(raw)
                if len(block) >= CHUNK:
                    yield _tagged_csv(block, tags_of)
                    block = []
            if block:
                yield _tagged_csv(block, tags_of)

    response = StreamingHttpResponse(chunks(), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _tagged_csv(block: list[tuple[Any, ...]], tags_of: Any) -> str:
    names = tags_of([raw[0] for raw in block])
    return csv_block(
        [
            (pk, type_name, value, utc_iso(timestamp), username, names[pk], "", instrument, None)
            for pk, type_name, value, timestamp, username, instrument in block
        ],
        instrument=True,
    )
