"""Calibrations from a CSV file (the admin's import), with django-import-export.

The columns are the export's and the snapshot's: `calibration_id` (blank: a new id),
`calibration_type`, `value`, `timestamp`, `username`, `tags` (names joined with `|`),
`instrument` (an instrument in service; blank or absent: none). Import
only creates: an id that exists is a bad row (corrections need a reason: DESIGN §5). Each row
goes through `calibration_create_tagged`, as through the API; the preview reports every bad
row, and the import stores every row or none.
"""

import csv
import io
import uuid
from datetime import UTC
from typing import Any

import tablib
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from import_export import fields, resources, widgets
from import_export.formats.base_formats import CSV

from config.api.timestamps import TimestampError, parse_timestamp
from config.batches import batched
from tagging.models import normalize_tag_name

from .models import Calibration, CalibrationType, Instrument, validate_instrument_id
from .services import calibration_create_tagged

REQUIRED_COLUMNS = ("calibration_type", "value", "timestamp", "username")
COLUMNS = ("calibration_id", *REQUIRED_COLUMNS, "tags")
TAG_SEPARATOR = "|"
# What separates the columns: the export's comma; a semicolon, which spreadsheets write where
# the decimal mark is a comma; a tab (a sheet copied as text). Not `|`, which joins tags.
SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}
EXPECTED = (
    f"Its first line names the columns, separated by commas (semicolons or tabs are read too): "
    f"{','.join(COLUMNS)}."
)


class ImportFileError(ValueError):
    """The file cannot be read as rows of calibrations; the message says where and why."""


class CalibrationCSV(CSV):
    """A CSV file whose separator is the one its first line uses (`SEPARATORS`), each data row
    keeping the line of the file it came from (`dataset.file_lines`), so a problem is reported
    at the line a spreadsheet shows.

    tablib reads commas only: a semicolon file was one column per line, and a row with a comma
    in it ("1,5") made tablib's 'InvalidDimensions' the only message.
    """

    def create_dataset(self, in_stream: Any, **kwargs: Any) -> tablib.Dataset:
        text = (
            in_stream.decode(self.encoding or "utf-8")
            if isinstance(in_stream, bytes)
            else in_stream
        )
        text = text.removeprefix("\ufeff")  # the byte-order mark spreadsheets put first
        first = text.split("\n", 1)[0]
        separator = max(SEPARATORS, key=lambda s: (first.count(s), s == ","))
        reader = csv.reader(io.StringIO(text), delimiter=separator)
        dataset = tablib.Dataset()
        lines: list[int] = []
        for row in reader:
            if not dataset.headers:
                dataset.headers = [name.strip() for name in row]
                continue
            if not any(cell.strip() for cell in row):
                continue  # a blank line
            width = len(dataset.headers)
            if len(row) > width:
                raise ImportFileError(
                    f"Line {reader.line_num} has {len(row)} fields, the first line {width} "
                    f"(columns separated by {SEPARATORS[separator]}): is a value written with "
                    "the separator in it, such as a decimal comma? Write 1.5, not 1,5, or put "
                    "the value in double quotes."
                )
            dataset.append(row + [""] * (width - len(row)))
            lines.append(reader.line_num)
        dataset.file_lines = lines
        return dataset


class CalibrationTypeNameWidget(widgets.Widget):
    """A calibration type by its name (`CalibrationType.objects.by_name`)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> CalibrationType:
        try:
            return CalibrationType.objects.by_name(str(value or "").strip())
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.name if value is not None else ""


class NumberWidget(widgets.Widget):
    """A number written as text; the model's validators then refuse NaN and ±Infinity."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> float:
        text = str(value if value is not None else "").strip()
        try:
            return float(text)
        except ValueError:
            pass
        try:
            float(text.replace(",", ".", 1))
        except ValueError:
            raise ValueError(f"'{text}' is not a number.") from None
        raise ValueError(f"'{text}' is not a number: write the decimal mark as a point (1.5).")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return repr(value) if value is not None else ""


class TimestampWidget(widgets.Widget):
    """An ISO 8601 instant, read as the API reads one (no offset means UTC)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return parse_timestamp(str(value if value is not None else ""))
        except TimestampError as exc:
            raise ValueError(str(exc)) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""


class UsernameWidget(widgets.Widget):
    """Who did the calibration, kept as written; the model's validators check it."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return str(value if value is not None else "")


class CalibrationIdWidget(widgets.Widget):
    """An optional UUID; blank means a new id."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> uuid.UUID | None:
        text = str(value if value is not None else "").strip()
        if not text:
            return None
        try:
            return uuid.UUID(text)
        except ValueError:
            raise ValueError(f"'{text}' is not a calibration id (a UUID).") from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value) if value is not None else "(new)"


class TagNamesWidget(widgets.Widget):
    """Tag names joined with `|` (blank: none), each a valid tag name."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[str]:
        text = str(value if value is not None else "")
        names = []
        for part in text.split(TAG_SEPARATOR):
            if not part.strip():
                continue
            try:
                names.append(normalize_tag_name(part))
            except ValidationError as exc:
                raise ValueError(f"Tag '{part.strip()}': {exc.messages[0]}") from None
        return names

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return TAG_SEPARATOR.join(value or [])


class InstrumentIdWidget(widgets.Widget):
    """An optional instrument id (blank: none); whether it is registered and in service is
    checked against the whole file at once (`CalibrationImportResource.before_import`)."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str | None:
        text = str(value if value is not None else "").strip()
        if not text:
            return None
        try:
            validate_instrument_id(text)
        except ValidationError as exc:
            raise ValueError(f"'{text}': {exc.messages[0]}") from None
        return text

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value) if value is not None else ""


class CalibrationImportResource(resources.ModelResource):
    """One calibration per CSV row, created through the service; never an update."""

    calibration_id = fields.Field(
        attribute="calibration_id", column_name="calibration_id", widget=CalibrationIdWidget()
    )
    calibration_type = fields.Field(
        attribute="calibration_type",
        column_name="calibration_type",
        widget=CalibrationTypeNameWidget(),
    )
    value = fields.Field(attribute="value", column_name="value", widget=NumberWidget())
    timestamp = fields.Field(
        attribute="timestamp", column_name="timestamp", widget=TimestampWidget()
    )
    username = fields.Field(attribute="username", column_name="username", widget=UsernameWidget())
    tags = fields.Field(attribute="tags", column_name="tags", widget=TagNamesWidget())
    instrument = fields.Field(
        attribute="instrument_id", column_name="instrument", widget=InstrumentIdWidget()
    )

    class Meta:
        model = Calibration
        fields = (
            "calibration_id",
            "calibration_type",
            "value",
            "timestamp",
            "username",
            "tags",
            "instrument",
        )
        import_id_fields: tuple[str, ...] = ()
        # Every row is a new calibration: never look one up to update it.
        force_init_instance = True
        use_transactions = True
        # The preview shows each row as it will be stored.
        skip_diff = False
        clean_model_instances = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seen_ids: set[uuid.UUID] = set()
        self.existing_ids: set[uuid.UUID] = set()
        self.instruments_in_service: set[str] = set()

    def import_data(self, dataset: Any, *args: Any, **kwargs: Any) -> Any:
        """All or nothing: any bad row rolls the whole file back, in the preview and after.

        Each bad row's `line` is the line of the file it came from (a spreadsheet's row
        number: the header is line 1), and `result.error_lines` pairs the rows that raised
        with their lines."""
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        result = super().import_data(dataset, *args, **kwargs)
        lines: list[int] = getattr(dataset, "file_lines", None) or [
            number + 1 for number in range(1, len(dataset) + 1)
        ]
        for row in result.invalid_rows:
            row.line = lines[row.number - 1]
        result.error_lines = [(lines[number - 1], errors) for number, errors in result.row_errors()]
        return result

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        missing = [name for name in REQUIRED_COLUMNS if name not in (dataset.headers or [])]
        if missing:
            raise ImportFileError(f"The file has no column {', '.join(missing)}. {EXPECTED}")
        if "tags" not in dataset.headers:
            dataset.append_col([""] * dataset.height, header="tags")
        if "calibration_id" not in dataset.headers:
            dataset.append_col([""] * dataset.height, header="calibration_id")
        if "instrument" not in dataset.headers:
            dataset.append_col([""] * dataset.height, header="instrument")
        # The instruments the file names that are in service: a query per batch, not per row.
        # Locked, in id order, for the import's transaction: each row's create updates its
        # instrument's standing, and two imports naming the same instruments in other orders
        # would otherwise each hold one the other waits for.
        named = sorted({str(text).strip() for text in dataset["instrument"] if str(text).strip()})
        self.instruments_in_service = {
            pk
            for batch in batched(named)
            for pk in Instrument.objects.select_for_update()
            .in_service()
            .filter(pk__in=batch)
            .order_by("pk")
            .values_list("pk", flat=True)
        }
        # Which ids exist already: a query per batch of the file's ids, not one per row.
        wanted = []
        for text in dataset["calibration_id"]:
            try:
                wanted.append(uuid.UUID(str(text).strip()))
            except ValueError:
                continue
        self.existing_ids = {
            pk
            for batch in batched(wanted)
            for pk in Calibration.objects.filter(pk__in=batch).values_list("pk", flat=True)
        }
        self.seen_ids = set()

    def import_instance(self, instance: Calibration, row: Any, **kwargs: Any) -> None:
        errors: dict[str, Any] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.error_dict
        wanted: uuid.UUID | None = getattr(instance, "calibration_id", None)
        if wanted is not None:
            if wanted in self.existing_ids:
                errors["calibration_id"] = [
                    ValidationError(
                        f"Calibration {wanted} already exists; import only creates "
                        "(correct it on its page, with a reason)."
                    )
                ]
            elif wanted in self.seen_ids:
                errors["calibration_id"] = [ValidationError(f"Id {wanted} is twice in the file.")]
            self.seen_ids.add(wanted)
            instance.id = wanted
        named: str | None = getattr(instance, "instrument_id", None)
        if (
            named is not None
            and named not in self.instruments_in_service
            and "instrument" not in errors
        ):
            errors["instrument"] = [
                ValidationError(
                    f"Instrument '{named}' is not in the register, or is retired: register it "
                    "(or choose one in service) first."
                )
            ]
        if errors:
            raise ValidationError(errors)

    def validate_instance(
        self,
        instance: Calibration,
        import_validation_errors: Any = None,
        validate_unique: bool = True,
    ) -> None:
        # The id's uniqueness is checked above, against the whole file and in one query.
        super().validate_instance(instance, import_validation_errors, validate_unique=False)

    def save_instance(
        self, instance: Calibration, is_create: bool, row: Any, **kwargs: Any
    ) -> None:
        user = kwargs.get("user")
        created = calibration_create_tagged(
            calibration_type=instance.calibration_type,
            value=instance.value,
            username=instance.username,
            timestamp=instance.timestamp,
            created_by=user if isinstance(user, User) else None,
            tags=getattr(instance, "tags", None) or [],
            calibration_id=instance.id,
            instrument_id=instance.instrument_id,
        )
        instance.created_at = created.calibration.created_at
        instance._state.adding = False
