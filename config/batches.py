"""Lists of ids cut to a size PostgreSQL takes: one statement carries at most 65,535 parameters,
so a query over a list that callers can grow (`pk__in=ids`) runs once per batch of them."""

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

# Far below the limit, and big enough that a batch's round trip is small beside its rows.
IDS_PER_QUERY = 5000

_T = TypeVar("_T")


def batched(items: Iterable[_T], size: int = IDS_PER_QUERY) -> Iterator[list[_T]]:
    """`items` in lists of at most `size`, in order."""
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch
