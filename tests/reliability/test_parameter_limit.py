"""No statement carries a list of ids that its callers can grow (DESIGN §6): PostgreSQL refuses
one with more than 65,535 parameters ("number of parameters must be between 0 and 65535"),
which `seed_demo --calibrations 100000` and an import of 65,536 rows ran into.

Each test here crosses that limit for real on PostgreSQL, as cheaply as it can: the ids need
not exist for the statement to be refused, so most are made up. The whole runs (README's
`seed_demo --calibrations 100000 --readings 20000`, an admin import of 65,536 rows) take
minutes: `bench/id_lists.py` runs them, and docs/RELIABILITY.md gives its figures.
"""

import io
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import tablib
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from calibrations.imports import CalibrationImportResource
from calibrations.models import Calibration
from config.batches import IDS_PER_QUERY
from tagging.selectors import tag_names_by_calibration
from tagging.services import tags_add
from tests.factories import CalibrationFactory

pytestmark = pytest.mark.django_db

# One more than a statement may carry.
OVER_THE_LIMIT = 65_536


def made_up_ids(count: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(count)]


@pytest.mark.postgresql
def test_the_tags_of_more_calibrations_than_a_statement_takes_are_read_in_batches() -> None:
    tagged = CalibrationFactory()
    tags_add(calibration=tagged, names=["baseline-2025"], user=None)
    ids = [*made_up_ids(OVER_THE_LIMIT), tagged.pk]
    names = tag_names_by_calibration(ids, as_of=timezone.now())
    assert len(names) == OVER_THE_LIMIT + 1
    assert names[tagged.pk] == ["baseline-2025"]
    assert sum(len(found) for found in names.values()) == 1


@pytest.mark.postgresql
def test_the_import_looks_up_more_existing_ids_than_a_statement_takes() -> None:
    existing = CalibrationFactory()
    ids = [*made_up_ids(OVER_THE_LIMIT), existing.pk]
    dataset = tablib.Dataset(headers=["calibration_id", "calibration_type", "value", "timestamp"])
    for pk in ids:
        dataset.append([str(pk), "gain", "1.5", "2025-04-01T10:00:00Z"])
    dataset.append_col(["alice"] * dataset.height, header="username")
    resource = CalibrationImportResource()
    resource.before_import(dataset)
    assert resource.existing_ids == {existing.pk}


@pytest.mark.postgresql
def test_the_delete_page_of_every_calibration_says_why_none_is_deleted() -> None:
    # "Select all" on a list of 100,000 calibrations, then "Delete selected".
    model_admin = admin.site.get_model_admin(Calibration)
    request = RequestFactory().get("/")
    request.user = User.objects.create_superuser("root", password="root-pass-1")
    tagged = CalibrationFactory()
    tags_add(calibration=tagged, names=["baseline-2025"], user=None)
    selected = [tagged, *(Calibration(pk=pk) for pk in made_up_ids(OVER_THE_LIMIT))]
    deleted, counts, permissions, protected = model_admin.get_deleted_objects(selected, request)
    assert (deleted, counts, permissions) == ([], {}, set())
    assert protected[0].startswith(f"Calibration {tagged.pk}: it has tag history")
    assert protected[-1].startswith(f"… and {OVER_THE_LIMIT + 1 - 100:,} more calibrations")
    assert len(protected) == 101


@contextmanager
def largest_select(found: list[int]) -> Iterator[None]:
    """Records the parameters of each SELECT run meanwhile (the real statements, on the real
    database: an observer, not a stand-in)."""

    def observe(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        if sql.lstrip().upper().startswith("SELECT") and params:
            found.append(len(params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(observe):
        yield


def test_seed_demo_reads_its_ids_in_batches_however_many_it_seeds() -> None:
    # Crossing the limit itself takes 100,000 calibrations and minutes (bench/id_lists.py);
    # here a seed bigger than one batch shows that no read carries every id it seeds.
    counts: list[int] = []
    with largest_select(counts):
        call_command(
            "seed_demo",
            "--calibrations",
            str(IDS_PER_QUERY + 500),
            "--readings",
            "0",
            stdout=io.StringIO(),
        )
    # The register's demo calibrations come on top of those asked for.
    assert Calibration.objects.filter(instrument__isnull=True).count() == IDS_PER_QUERY + 500
    assert counts
    assert max(counts) <= IDS_PER_QUERY
