"""A user's calibrations of one type: read from their index in page order on PostgreSQL; an
unknown type is an empty list on either database."""

import pytest
from django.db import connection

from calibrations.filtersets import CalibrationFilterSet
from calibrations.models import Calibration
from tests.factories import CalibrationFactory, CalibrationTypeFactory

pytestmark = pytest.mark.django_db


@pytest.mark.postgresql
def test_the_user_and_type_page_walks_the_user_type_index_without_a_sort() -> None:
    gain = CalibrationTypeFactory(name="gain")
    CalibrationFactory.create_batch(5, calibration_type=gain, username="alice")
    # Many calibrations of the same type by others, as in a real lab, and fresh statistics.
    Calibration.objects.bulk_create(
        Calibration(calibration_type=gain, value=1.0, username=f"user{i % 20}") for i in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE calibrations_calibration")
    filterset = CalibrationFilterSet(
        {"username": "alice", "calibration_type": "gain"}, queryset=Calibration.objects.all()
    )
    queryset = filterset.qs.order_by("-timestamp", "-pk").values_list("pk", flat=True)[:51]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny tables favour scanning and sorting; take those away to see what the index can do
        # (on 1 M calibrations PostgreSQL chooses this plan by itself: bench/results/).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using calibration_user_type_ts_idx" in plan, plan
    assert "calibration_type_id = $" in plan, plan  # the type's id is an index condition


def test_an_unknown_type_in_the_filter_is_an_empty_list() -> None:
    CalibrationFactory(calibration_type=CalibrationTypeFactory(name="gain"), username="alice")
    filterset = CalibrationFilterSet(
        {"username": "alice", "calibration_type": "nope"}, queryset=Calibration.objects.all()
    )
    assert list(filterset.qs) == []
