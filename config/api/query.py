"""Query parameters, read alike on every route (DESIGN §4.1): a parameter given empty is a bad
value (400), not a missing one; only an absent parameter takes its default.

DRF's serializers and django-filter's forms both take a non-required field that arrives empty
in a query string for one that did not arrive (`?timestamp=` answered "now", `?unit=` °C).
The routes read their parameters through three doors, each refusing empty values here, once:
`QuerySerializer` (the base of every query serializer), `FilterSet` (of every filter set), and
the pagination's and ordering's own parameters (`config.api.pagination`, `config.api.filters`).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django_filters import rest_framework as filters
from rest_framework import serializers

BLANK = "Given empty: give a value, or leave the parameter out for its default."


def blank_parameters(data: Mapping[str, Any], names: Iterable[str]) -> dict[str, list[str]]:
    """The errors of those of `names` that `data` (a query string) gives empty or blank.

    Every value counts when a parameter is repeated (`?unit=C&unit=`): Django reads the last,
    and a client that sent an empty one meant something the route cannot tell.
    """
    getlist = getattr(data, "getlist", None)
    errors = {}
    for name in names:
        if name not in data:
            continue
        values = getlist(name) if getlist is not None else [data[name]]
        if any(isinstance(value, str) and not value.strip() for value in values):
            errors[name] = [BLANK]
    return errors


class QuerySerializer(serializers.Serializer[Any]):
    """The base of every serializer that reads a query string.

    Refuses a declared parameter given empty, and a choice it does not know with the list of
    those it does (`?unit=c` answered only that "c" was not a valid choice).
    """

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.ChoiceField):
                allowed = ", ".join(str(choice) for choice in field.choices)
                field.error_messages["invalid_choice"] = (
                    f'"{{input}}" is not one of the choices: {allowed}.'
                )
        return fields

    def to_internal_value(self, data: Any) -> Any:
        errors = blank_parameters(data, self.fields)
        if errors:
            raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class _BlankRefusingForm(forms.Form):
    """A filter set's form that refuses its parameters given empty, and a choice it does not
    know with the list of those it does."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.ChoiceField):
                choices: Any = field.choices  # (value, label) pairs once the form is built
                allowed = ", ".join(str(value) for value, _ in choices if value != "")
                field.error_messages["invalid_choice"] = (
                    f'"%(value)s" is not one of the choices: {allowed}.'
                )

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        for name, messages in blank_parameters(self.data, self.fields).items():
            self.add_error(name, messages)
        return cleaned


class FilterSet(filters.FilterSet):
    """The base of every filter set: a filter given empty is a 400, not "no filter"."""

    def get_form_class(self) -> type[forms.Form]:
        form: type[forms.Form] = super().get_form_class()
        return type(form.__name__, (_BlankRefusingForm, form), {})
