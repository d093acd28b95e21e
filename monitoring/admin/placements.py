"""Placements in the console, and an instrument's page showing its own."""

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from calibrations.admin.instruments import InstrumentAdmin
from calibrations.models import Instrument
from config.admin import DateRangeListFilter
from measurements.services import validate_sensor

from ..models import Placement
from ..services import placement_create, placement_remove


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
        return cleaned


@admin.register(Placement)
class PlacementAdmin(admin.ModelAdmin[Placement]):
    """Which instrument reported as which sensor of which room, when. Placements are history:
    a placement is ended (its “Removed at”), never edited or deleted."""

    form = PlacementForm
    list_display = ["instrument_link", "room_link", "sensor", "placed_column", "removed_column"]
    list_filter = [("placed_at", DateRangeListFilter), "room"]
    # Every column is the placement's own (the ids are its foreign keys): no join.
    list_select_related = False
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

    @admin.display(description="Instrument", ordering="instrument_id")
    def instrument_link(self, placement: Placement) -> str:
        url = reverse("admin:calibrations_instrument_change", args=[placement.instrument_id])
        return format_html('<a href="{}">{}</a>', url, placement.instrument_id)

    @admin.display(description="Room", ordering="room_id")
    def room_link(self, placement: Placement) -> str:
        url = reverse("admin:measurements_room_change", args=[placement.room_id])
        return format_html('<a href="{}">{}</a>', url, placement.room_id)

    @admin.display(description="Placed (UTC)", ordering="placed_at")
    def placed_column(self, placement: Placement) -> str:
        return _utc(placement.placed_at)

    @admin.display(description="Removed (UTC)", ordering="removed_at")
    def removed_column(self, placement: Placement) -> str:
        return "still placed" if placement.removed_at is None else _utc(placement.removed_at)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


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
