"""Reads of tag history: which tags a calibration carried at an instant."""

import uuid
from collections.abc import Iterable
from datetime import datetime

from config.batches import batched

from .models import TagAssignment, tag_sort_key


def tag_names_by_calibration(
    calibration_ids: Iterable[uuid.UUID], *, as_of: datetime
) -> dict[uuid.UUID, list[str]]:
    """The names of the tags each calibration carried at `as_of`, sorted, in one query.

    (calibration id, name) pairs rather than TagAssignment and Tag instances: building a few
    hundred model instances was most of a 50-row page's time.
    """
    names: dict[uuid.UUID, list[str]] = {pk: [] for pk in calibration_ids}
    for batch in batched(names):  # one batch for a page or a block of a file
        pairs = (
            TagAssignment.objects.as_of(as_of)
            .filter(calibration_id__in=batch)
            .order_by()
            .values_list("calibration_id", "tag__name")
        )
        for calibration_id, name in pairs:
            names[calibration_id].append(name)
    return {pk: sorted(found, key=tag_sort_key) for pk, found in names.items()}
