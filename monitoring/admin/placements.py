"""Placements in the console, and an instrument's page showing its own."""

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from calibrations.admin.instruments import InstrumentAdmin
from calibrations.models import Instrument
from config.admin import DateRangeListFilter
from measurements.services import validate_sensor

from ..models import Placement
from ..services import placement_create, placement_in_the_way, placement_remove


class PlacementForm(forms.ModelForm[Placement]):
    """A placement's fields, checked as the service checks them, before anything is saved."""

    class Meta:
        model = Placement
        fields = ["instrument", "room", "sensor", "placed_at", "removed_at"]

    def clean_sensor(self) -> str:
        try:
            return validate_sensor(self.cleaned_data.get("sensor") or "")
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        removed_at = cleaned.get("removed_at")
        if self.instance.pk is not None and removed_at and removed_at < self.instance.placed_at:
            self.add_error("removed_at", "A placement cannot end before it began.")
        if self.instance.pk is None and not self.errors:
            instrument = cleaned["instrument"]
            placed_at = cleaned["placed_at"]
            if instrument.retired_at is not None and instrument.retired_at <= placed_at:
                self.add_error("instrument", "This instrument was retired by then.")
            other = placement_in_the_way(
                Placement(
                    instrument=instrument,
                    room=cleaned["room"],
                    sensor=cleaned.get("sensor", ""),
                    placed_at=placed_at,
                    removed_at=cleaned.get("removed_at"),
                )
            )
            if other is not None:
                self.add_error(None, _in_the_way_message(other))
        return cleaned


def _in_the_way_message(other: Placement) -> str:
    sensor = f"sensor '{other.sensor}'" if other.sensor else "the unnamed sensor"
    until = "now" if other.removed_at is None else f"{other.removed_at:%Y-%m-%d %H:%M:%S} UTC"
    return (
        f"{other.instrument_id} is placed as {sensor} of {other.room_id} from "
        f"{other.placed_at:%Y-%m-%d %H:%M:%S} UTC until {until} (placement {other.pk}): remove "
        "that placement first, or choose a time outside it."
    )


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin[Placement]):
    """Which instrument reported as which sensor of which room, when. Placements are history:
    a placement is ended (its “Removed at”), never edited or deleted."""

    form = PlacementForm
    list_display = ["instrument", "room", "sensor", "placed_at", "removed_at"]
    list_filter = [("placed_at", DateRangeListFilter), "room"]
    list_select_related = ["instrument", "room"]
    search_fields = ["instrument__instrument_id", "room__room_id", "sensor"]
    search_help_text = "An instrument id, a room id or a sensor name."
    autocomplete_fields = ["instrument", "room"]
    ordering = ["-placed_at", "-id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Placement | None = None) -> list[str]:
        if obj is None:
            return []
        fixed = ["instrument", "room", "sensor", "placed_at"]
        return [*fixed, "removed_at"] if obj.removed_at is not None else fixed

    def save_model(self, request: HttpRequest, obj: Placement, form: Any, change: bool) -> None:
        # Through the services, as the API writes: the form has checked what they check.
        if change:
            if obj.removed_at is not None and "removed_at" in form.changed_data:
                placement_remove(placement=obj, removed_at=obj.removed_at)
            return
        created = placement_create(
            instrument=obj.instrument,
            room_id=obj.room_id,
            sensor=obj.sensor,
            placed_at=obj.placed_at,
        )
        if obj.removed_at is not None:
            placement_remove(placement=created, removed_at=obj.removed_at)
        obj.pk = created.pk

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PlacementInline(admin.TabularInline[Placement, Instrument]):
    """An instrument's placements, oldest first; added and ended under Placements."""

    model = Placement
    fields = ["room", "sensor", "placed_at", "removed_at"]
    readonly_fields = ["room", "sensor", "placed_at", "removed_at"]
    ordering = ["placed_at", "id"]
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "Placements (where its readings came from)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Placement]:
        return super().get_queryset(request).select_related("room")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PlacedInstrumentAdmin(InstrumentAdmin):
    """The calibrations app's instrument page, with the instrument's placements."""

    inlines = [*InstrumentAdmin.inlines, PlacementInline]

    def get_inline_instances(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return super().get_inline_instances(request, obj) if obj is not None else []


admin.site.unregister(Instrument)
admin.site.register(Instrument, PlacedInstrumentAdmin)
