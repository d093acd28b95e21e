"""One factory per model, with the smallest valid defaults."""

from datetime import UTC, datetime, timedelta
from typing import Any

import factory
from django.contrib.auth.models import Permission, User

from calibrations.models import Calibration, CalibrationType, Instrument
from calibrations.services import calibration_create, instrument_create
from measurements.models import Measurement, RangeVersion, Room
from monitoring.models import Placement
from monitoring.services import placement_create
from tagging.models import Tag, TagAssignment


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests")

    @factory.post_generation
    def permissions(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        for dotted in extracted or []:
            app_label, codename = dotted.split(".")
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


class CalibrationTypeFactory(factory.django.DjangoModelFactory[CalibrationType]):
    class Meta:
        model = CalibrationType
        django_get_or_create = ("name",)

    name = "gain"


class CalibrationFactory(factory.django.DjangoModelFactory[Calibration]):
    class Meta:
        model = Calibration

    calibration_type = factory.SubFactory(CalibrationTypeFactory)
    value = 1.5
    # One second apart, never repeating: ordering by timestamp is the order of creation.
    timestamp = factory.Sequence(
        lambda n: datetime(2025, 4, 1, 10, 0, tzinfo=UTC) + timedelta(seconds=n)
    )
    username = "alice"

    @classmethod
    def _create(cls, model_class: type[Calibration], *args: Any, **kwargs: Any) -> Calibration:
        # Through the service, as every calibration is made: with its version 1 (issue 13).
        return calibration_create(calibration_id=kwargs.pop("id", None), **kwargs)


class TagFactory(factory.django.DjangoModelFactory[Tag]):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"tag-{n}")


class TagAssignmentFactory(factory.django.DjangoModelFactory[TagAssignment]):
    """A period as the services write it: who added the tag, and with `closed=True` who removed
    it a day later (`removed_at` may be given to close it at another instant)."""

    class Meta:
        model = TagAssignment

    class Params:
        closed = factory.Trait(
            removed_at=factory.LazyAttribute(lambda period: period.added_at + timedelta(days=1)),
            removed_by=factory.SelfAttribute("added_by"),
        )

    calibration = factory.SubFactory(CalibrationFactory)
    tag = factory.SubFactory(TagFactory)
    added_at = datetime(2025, 4, 1, 12, 0, tzinfo=UTC)
    added_by = factory.SubFactory(UserFactory, username="tagger")
    calibration_timestamp = factory.SelfAttribute("calibration.timestamp")


class RoomFactory(factory.django.DjangoModelFactory[Room]):
    class Meta:
        model = Room
        django_get_or_create = ("room_id",)
        skip_postgeneration_save = True

    room_id = factory.Sequence(lambda n: f"room-{n}")

    @factory.post_generation
    def first_range(self, create: bool, extracted: object, **kwargs: object) -> None:
        """A room made with a range has that range as its version 1, as the migration gives
        one to a room that had a range (so it judges every reading)."""
        if create and self.min_c is not None and not self.range_versions.exists():
            RangeVersion.objects.create(
                room=self,
                version=1,
                min_c=self.min_c,
                max_c=self.max_c,
                changed_at=self.created_at,
            )


class MeasurementFactory(factory.django.DjangoModelFactory[Measurement]):
    class Meta:
        model = Measurement

    room = factory.SubFactory(RoomFactory)
    timestamp = factory.Sequence(lambda n: datetime(2025, 4, 1, tzinfo=UTC) + timedelta(minutes=n))
    value = 21.5


class InstrumentFactory(factory.django.DjangoModelFactory[Instrument]):
    class Meta:
        model = Instrument

    instrument_id = factory.Sequence(lambda n: f"TH-{n:03d}")
    name = factory.LazyAttribute(lambda instrument: f"Thermometer {instrument.instrument_id}")
    kind = "sensor"
    calibration_interval_days = 365

    @classmethod
    def _create(cls, model_class: type[Instrument], *args: Any, **kwargs: Any) -> Instrument:
        # Through the service, as the API and the console register one.
        return instrument_create(**kwargs)


class PlacementFactory(factory.django.DjangoModelFactory[Placement]):
    """A placement as the service makes it (open; close it with `placement_remove`)."""

    class Meta:
        model = Placement

    instrument = factory.SubFactory(InstrumentFactory)
    room = factory.SubFactory(RoomFactory)
    sensor = ""
    placed_at = datetime(2025, 1, 1, tzinfo=UTC)

    @classmethod
    def _create(cls, model_class: type[Placement], *args: Any, **kwargs: Any) -> Placement:
        room = kwargs.pop("room")
        return placement_create(room_id=room.pk, **kwargs)
