"""Tags given when a calibration is recorded are carried from the instant it exists: each
period's `added_at` is the calibration's `created_at` (DESIGN §4.2), so the tags a 201 lists
are the tags it carries as of its `created_at`, whichever door recorded it (the API, the CSV
import, the console's Add page). They were opened a few milliseconds later, so the tags as of
`created_at` were `[]` and a snapshot of that instant filtered by the tag left it out."""

import csv
import io
import re
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tagging.models import TagAssignment
from tests.factories import CalibrationTypeFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/calibrations/calibration/"
TAGS = ["baseline-2025", "Reference"]


def assert_carried_from_creation(client: Client | APIClient, calibration: Calibration) -> None:
    """What an integrator sees of a calibration's first tags at its `created_at`."""
    created_at = calibration.created_at
    periods = TagAssignment.objects.filter(calibration=calibration)
    assert {p.added_at for p in periods} == {created_at}
    instant = quote(created_at.isoformat())
    as_of = client.get(f"/api/calibrations/{calibration.pk}/tags?timestamp={instant}")
    assert as_of.status_code == 200
    assert as_of.json() == ["baseline-2025", "Reference"]
    for tag in TAGS:
        carrying = client.get(f"/api/tags/{tag}/calibrations?timestamp={instant}")
        assert [c["calibration_id"] for c in carrying.json()["results"]] == [str(calibration.pk)]
        snapshot = client.get(f"/api/snapshot?timestamp={instant}&tag={tag}&format=csv")
        assert snapshot.status_code == 200
        rows = list(csv.reader(io.StringIO(b"".join(snapshot.streaming_content).decode())))
        assert [(row[0], row[5]) for row in rows[1:]] == [
            (str(calibration.pk), "baseline-2025|Reference")
        ]


def test_tags_posted_with_a_calibration_are_carried_at_its_created_at(
    writer_client: APIClient,
) -> None:
    response = writer_client.post(
        "/api/calibrations",
        {"calibration_type": "gain", "value": 1.5, "tags": TAGS},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["tags"] == ["baseline-2025", "Reference"]
    calibration = Calibration.objects.get(pk=body["calibration_id"])
    # The instant the 201 gave, sent back as it came, is the instant the tags are on from.
    as_of = writer_client.get(
        f"/api/calibrations/{calibration.pk}/tags", {"timestamp": body["created_at"]}
    )
    assert as_of.json() == body["tags"]
    assert_carried_from_creation(writer_client, calibration)


def _upload(client: Client, text: str) -> str:
    data = io.BytesIO(text.encode())
    data.name = "calibrations.csv"
    response = client.post(
        CHANGELIST + "import/", {"format": "0", "resource": "0", "import_file": data}
    )
    return str(response.content.decode())


def test_tags_of_an_imported_row_are_carried_at_its_created_at(admin_client: Client) -> None:
    CalibrationTypeFactory(name="gain")
    preview = _upload(
        admin_client,
        "calibration_type,value,timestamp,username,tags\n"
        "gain,1.5,2025-04-01T10:00:00Z,alice,baseline-2025|Reference\n",
    )
    fields: dict[str, Any] = dict(
        re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview)
    )
    response = admin_client.post(CHANGELIST + "process_import/", {**fields, "confirm": "1"})
    assert response.status_code == 302
    assert_carried_from_creation(admin_client, Calibration.objects.get())


def test_tags_typed_on_the_console_s_add_page_are_carried_at_its_created_at(
    admin_client: Client,
) -> None:
    gain = CalibrationTypeFactory(name="gain")
    response = admin_client.post(
        CHANGELIST + "add/",
        {
            "calibration_type": gain.pk,
            "value": "2.5",
            "timestamp_0": "2025-04-01",
            "timestamp_1": "10:00:00",
            "username": "carol",
            "add_tags": "baseline-2025, Reference",
            "tag_assignments-TOTAL_FORMS": "0",
            "tag_assignments-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert_carried_from_creation(admin_client, Calibration.objects.get())
