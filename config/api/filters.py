"""Filter backends shared by the apps."""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request


class StrictOrderingFilter(OrderingFilter):
    """DRF's ordering, but an unknown `ordering` value is a 400 instead of being ignored."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> Any:
        params = request.query_params.get(self.ordering_param)
        # Given empty, it is a bad value like any other (DESIGN §4.1), not the default order.
        if params is not None:
            fields = [param.strip() for param in params.split(",")]
            valid = self.remove_invalid_fields(queryset, fields, view, request)
            if len(valid) != len(fields):
                allowed = sorted(
                    {
                        name
                        for name, _ in self.get_valid_fields(queryset, view, {"request": request})
                    }
                )
                choices = ", ".join(f"{p}{f}" for f in allowed for p in ("", "-"))
                raise ValidationError({self.ordering_param: [f"Choose one of: {choices}."]})
        return super().get_ordering(request, queryset, view)
