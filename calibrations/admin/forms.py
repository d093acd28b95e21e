"""The calibration console's forms: a calibration's change form (corrections with a reason,
tags to add and remove), the changelist's action bar, and the snapshot download's options."""

import copy
import math
from typing import Any

from django import forms
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import AdminSplitDateTime
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.api.timestamps import TimestampError, parse_timestamp
from tagging.models import Tag, TagAssignment, normalize_tag_name

from ..models import Calibration, CalibrationType
from ..services import RECORDED_FIELDS, calibration_changes, instrument_check


class TagActionForm(ActionForm):
    """The changelist's action bar, with the tag name the tag actions need."""

    tag = forms.CharField(required=False, max_length=100, label="Tag")


class PreciseSplitDateTime(AdminSplitDateTime):
    """The admin's date and time inputs, with the time to the microsecond.

    Django drops the microseconds of a widget's initial value unless the widget supports
    them; a timestamp shown without them would come back changed from an untouched form.
    """

    supports_microseconds = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        time = self.widgets[1]
        assert isinstance(time, forms.TimeInput)
        time.format = "%H:%M:%S.%f"
        time.attrs["size"] = "15"


class FiniteNumberField(forms.FloatField):
    """A calibration's value, typed as text and refused, saying why, unless it is a finite
    number.

    Not the browser's number input: it turns what it cannot hold (`1e400`) into nothing, so
    the page answered "This field is required" for a value that was there.
    """

    widget = forms.TextInput(attrs={"inputmode": "decimal", "size": 24})

    def to_python(self, value: Any) -> float | None:  # type: ignore[override]
        number = super().to_python(value)
        if number is not None and not math.isfinite(number):
            raise ValidationError(
                "%(value)s is not a finite number: a value lies within ±1.8e308.",
                code="not_finite",
                params={"value": str(value).strip()},
            )
        return number


class CalibrationForm(forms.ModelForm[Calibration]):
    """The calibration's fields, plus tags to add and tags to remove (through the services),
    and the reason a correction needs."""

    change_reason = forms.CharField(
        required=False,
        label="Reason for the correction",
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=(
            "Required when you change the type, value, timestamp, username or instrument: it "
            "is kept with the new version of this record."
        ),
    )

    add_tags = forms.CharField(
        required=False,
        label="Add tags",
        help_text="Comma-separated tag names; new names become new tags.",
    )
    remove_tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(),
        required=False,
        label="Remove tags",
        widget=forms.CheckboxSelectMultiple,
        help_text="Tags it carries now; removing one closes its period, the history stays.",
    )

    class Meta:
        model = Calibration
        fields = ["calibration_type", "value", "timestamp", "username", "instrument"]
        widgets = {"timestamp": PreciseSplitDateTime}
        field_classes = {"value": FiniteNumberField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What is stored now, before the form copies its values onto the instance.
        self.stored = copy.copy(self.instance)
        self.recorded_changes: dict[str, Any] = {}
        if "username" in self.fields:
            # Kept as typed: trimming a stored name would be a change nobody asked for.
            username = self.fields["username"]
            assert isinstance(username, forms.CharField)
            username.strip = False
        # The id has a default, so a new instance has a pk already: ask its state instead.
        self.is_correction = not self.instance._state.adding
        if not self.is_correction:
            del self.fields["change_reason"]
        if self.instance.pk:
            field = self.fields["remove_tags"]
            assert isinstance(field, forms.ModelMultipleChoiceField)
            field.queryset = Tag.objects.filter(
                assignments__in=TagAssignment.objects.active().filter(calibration=self.instance)
            )
        else:
            del self.fields["remove_tags"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.is_correction:
            # Compared with the stored record, not `changed_data` (the form's initial values,
            # which a widget may have rounded): a correction must not alter it unasked.
            self.recorded_changes = calibration_changes(
                self.stored, **{name: cleaned[name] for name in RECORDED_FIELDS if name in cleaned}
            )
            reason = (cleaned.get("change_reason") or "").strip()
            if self.recorded_changes and not reason:
                labels = ", ".join(
                    str(self.fields[name].label or name) for name in self.recorded_changes
                )
                self.add_error(
                    "change_reason",
                    f"You changed {labels}: say why. A correction needs a reason, kept with "
                    "the record's new version.",
                )
            cleaned["change_reason"] = reason
        self._check_instrument(cleaned)
        return cleaned

    def _check_instrument(self, cleaned: dict[str, Any]) -> None:
        """A new calibration names an instrument in service now; a correction that changes it,
        one in service when the calibration was done (the service's rule, said on the form)."""
        instrument = cleaned.get("instrument")
        if instrument is None:
            return
        if self.is_correction:
            if "instrument" not in self.recorded_changes or not cleaned.get("timestamp"):
                return
            at = cleaned["timestamp"]
        else:
            at = timezone.now()
        try:
            instrument_check(instrument.pk, at=at)
        except ValidationError as exc:
            self.add_error("instrument", exc.message_dict["instrument"])

    def clean_add_tags(self) -> list[str]:
        raw = self.cleaned_data.get("add_tags") or ""
        names = []
        for part in raw.split(","):
            if part.strip():
                try:
                    names.append(normalize_tag_name(part))
                except ValidationError as exc:
                    raise ValidationError(f"'{part.strip()}': {exc.messages[0]}") from None
        return names


class SnapshotForm(forms.Form):
    """The admin's "snapshot as of…" download: the options of `GET /api/snapshot`."""

    timestamp = forms.CharField(
        required=False,
        label="As of",
        help_text="ISO 8601, e.g. 2025-04-01T10:00:00Z (no offset means UTC). Blank: now.",
        widget=forms.TextInput(attrs={"size": 32, "placeholder": "2025-04-01T10:00:00Z"}),
    )
    tag = forms.CharField(required=False, label="Carrying the tag", max_length=100)
    calibration_type = forms.ModelChoiceField(
        queryset=CalibrationType.objects.all(),
        required=False,
        to_field_name="name",
        empty_label="any type",
    )
    username = forms.CharField(required=False, max_length=150, label="Done by")
    format = forms.ChoiceField(choices=[("csv", "CSV"), ("jsonl", "JSON Lines")], initial="csv")

    def clean_timestamp(self) -> Any:
        raw = (self.cleaned_data.get("timestamp") or "").strip()
        if not raw:
            return None
        try:
            return parse_timestamp(raw)
        except TimestampError as exc:
            raise ValidationError(str(exc)) from None

    def clean_tag(self) -> str | None:
        raw = self.cleaned_data.get("tag") or ""
        if not raw.strip():
            return None
        try:
            return normalize_tag_name(raw)
        except ValidationError as exc:
            raise ValidationError(exc.messages[0]) from None
