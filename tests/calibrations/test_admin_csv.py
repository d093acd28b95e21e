"""CSV out and in, and the snapshot download, in the operator console."""

import csv
import io
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from calibrations.models import Calibration, CalibrationVersion
from calibrations.services import calibration_correct, calibration_create
from tagging.models import TagAssignment
from tagging.services import tags_add
from tests.factories import CalibrationTypeFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/calibrations/calibration/"
DONE = datetime(2025, 4, 1, 10, 0, 0, 123456, tzinfo=UTC)


def make(username: str = "alice", value: float = 1.5, type_name: str = "gain") -> Calibration:
    return calibration_create(
        calibration_type=CalibrationTypeFactory(name=type_name),
        value=value,
        username=username,
        timestamp=DONE,
    )


def upload(client: Client, text: str) -> tuple[int, str]:
    data = io.BytesIO(text.encode())
    data.name = "calibrations.csv"
    response = client.post(
        CHANGELIST + "import/", {"format": "0", "resource": "0", "import_file": data}
    )
    return response.status_code, response.content.decode()


def confirm(client: Client, preview: str) -> Any:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', preview))
    assert "import_file_name" in fields, "no confirmation offered"
    return client.post(CHANGELIST + "process_import/", {**fields, "confirm": "Confirm import"})


def test_a_file_with_one_bad_row_is_reported_and_stores_nothing(admin_client: Client) -> None:
    make()
    existing = Calibration.objects.get()
    CalibrationTypeFactory(name="offset")
    text = (
        "calibration_id,calibration_type,value,timestamp,username,tags\n"
        ",gain,1.5,2025-04-01T10:00:00Z,alice,baseline-2025\n"
        ",offset,-0.25,2025-04-02T10:00:00.5+02:00,bob,\n"
        f"{existing.pk},gain,2.0,2025-04-03T10:00:00Z,carol,\n"
    )
    status, page = upload(admin_client, text)
    assert status == 200
    assert "already exists" in page
    assert "Confirm import" not in page
    assert Calibration.objects.count() == 1
    assert CalibrationVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("gain,1.5,2025-04-01T10:00:00Z,alice,", None),
        ("torque,1.5,2025-04-01T10:00:00Z,alice,", "Unknown calibration type"),
        ("gain,nan,2025-04-01T10:00:00Z,alice,", "not a finite number"),
        ("gain,inf,2025-04-01T10:00:00Z,alice,", "not a finite number"),
        ("gain,1.5,01/04/2025,alice,", "ISO 8601"),
        ("gain,1.5,2025-04-01T10:00:00Z,alice,ok|bad/name", "must not contain"),
        ("gain,1.5,2025-04-01T10:00:00Z,,", "username must not be blank"),
    ],
)
def test_every_kind_of_bad_row_is_named_in_the_preview(
    admin_client: Client, row: str, message: str | None
) -> None:
    CalibrationTypeFactory(name="gain")
    status, page = upload(admin_client, f"calibration_type,value,timestamp,username,tags\n{row}\n")
    assert status == 200
    if message is None:
        assert "Confirm import" in page
    else:
        assert message in page.replace("&#x27;", "'")
        assert "Confirm import" not in page
    assert Calibration.objects.count() == 0  # the preview stores nothing either way


def test_a_good_file_is_previewed_then_stored_whole_each_with_version_1_and_tags(
    admin_client: Client, admin_user: User
) -> None:
    CalibrationTypeFactory(name="gain")
    chosen = uuid.uuid4()
    text = (
        "calibration_id,calibration_type,value,timestamp,username,tags\n"
        f"{chosen},gain,1.5,2025-04-01T10:00:00.123456Z,alice,baseline-2025|Reference\n"
        ",gain,0.1,2025-04-02T10:00:00Z,bob,\n"
    )
    status, preview = upload(admin_client, text)
    assert status == 200
    assert "Confirm import" in preview
    assert Calibration.objects.count() == 0
    response = confirm(admin_client, preview)
    assert response.status_code == 302
    assert Calibration.objects.count() == 2
    first = Calibration.objects.get(pk=chosen)
    assert (first.value, first.timestamp, first.username) == (1.5, DONE, "alice")
    assert first.created_by == admin_user
    version = CalibrationVersion.objects.get(calibration=first)
    assert (version.version, version.change, version.changed_by) == (1, "created", "admin")
    assert sorted(
        TagAssignment.objects.filter(calibration=first).values_list("tag__name", flat=True)
    ) == [
        "Reference",
        "baseline-2025",
    ]
    assert CalibrationVersion.objects.count() == 2


def test_an_id_twice_in_one_file_is_a_bad_row(admin_client: Client) -> None:
    CalibrationTypeFactory(name="gain")
    same = uuid.uuid4()
    _status, page = upload(
        admin_client,
        "calibration_id,calibration_type,value,timestamp,username\n"
        f"{same},gain,1,2025-04-01T10:00:00Z,a\n{same},gain,2,2025-04-01T10:00:00Z,b\n",
    )
    assert "twice in the file" in page
    assert Calibration.objects.count() == 0


def test_import_needs_the_add_permission(client: Client) -> None:
    viewer = UserFactory(
        username="viewer", is_staff=True, permissions=["calibrations.view_calibration"]
    )
    client.force_login(viewer)
    assert client.get(CHANGELIST + "import/").status_code == 403


def test_export_is_the_filtered_list_with_tags_and_exact_values(admin_client: Client) -> None:
    alice = make(username="alice", value=0.1)
    tags_add(calibration=alice, names=["b", "A"], user=None)
    make(username="bob")
    response = admin_client.get(CHANGELIST + "export/", {"q": "alice"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="calibrations-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows == [
        [
            "calibration_id",
            "calibration_type",
            "value",
            "timestamp",
            "username",
            "tags",
            "instrument",
        ],
        [str(alice.pk), "gain", "0.1", "2025-04-01T10:00:00.123456Z", "alice", "A|b", ""],
    ]
    # The list offers it with the list's own filters.
    page = admin_client.get(CHANGELIST, {"q": "alice"}).content.decode()
    assert 'href="/admin/calibrations/calibration/export/?q=alice"' in page


def test_an_exported_file_imported_elsewhere_is_refused_here_as_existing_rows(
    admin_client: Client,
) -> None:
    make()
    exported = b"".join(admin_client.get(CHANGELIST + "export/").streaming_content).decode()
    _, page = upload(admin_client, exported)
    assert "already exists" in page
    assert Calibration.objects.count() == 1


def test_the_snapshot_download_gives_the_values_as_of_the_instant(admin_client: Client) -> None:
    calibration = make()
    tags_add(calibration=calibration, names=["reference"], user=None)
    before = datetime.now(UTC)
    calibration_correct(calibration=calibration, user=None, reason="Typo.", value=9.0)
    page = admin_client.get(CHANGELIST + "snapshot/", {"tag": "reference"})
    assert page.status_code == 200
    assert 'value="reference"' in page.content.decode()
    response = admin_client.get(
        CHANGELIST + "snapshot/",
        {"download": "1", "timestamp": before.isoformat(), "tag": "reference", "format": "csv"},
    )
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[2] for row in rows[1:]] == ["1.5"]


def test_a_bad_instant_on_the_snapshot_form_is_a_form_error(admin_client: Client) -> None:
    response = admin_client.get(
        CHANGELIST + "snapshot/", {"download": "1", "timestamp": "last tuesday", "format": "csv"}
    )
    assert response.status_code == 200
    assert "timestamp" in response.context["form"].errors


def test_the_lists_and_the_tag_page_offer_the_snapshot(admin_client: Client) -> None:
    calibration = make()
    tags_add(calibration=calibration, names=["reference"], user=None)
    assert "Snapshot as of" in admin_client.get(CHANGELIST).content.decode()
    assert "Snapshot as of" in admin_client.get("/admin/tagging/tag/").content.decode()
    tag_id = TagAssignment.objects.get().tag_id
    page = admin_client.get(f"/admin/tagging/tag/{tag_id}/change/").content.decode()
    assert "/admin/calibrations/calibration/snapshot/?tag=reference" in page


def test_a_malformed_id_and_a_missing_column_are_reported(admin_client: Client) -> None:
    CalibrationTypeFactory(name="gain")
    _, page = upload(
        admin_client,
        "calibration_id,calibration_type,value,timestamp,username\n"
        "nope,gain,1,2025-04-01T10:00:00Z,a\n",
    )
    assert "is not a calibration id" in page.replace("&#x27;", "'")
    _, page = upload(admin_client, "calibration_type,value,username\ngain,1,a\n")
    assert "The file has no column timestamp" in page
    assert Calibration.objects.count() == 0


def test_a_row_gone_bad_between_preview_and_confirmation_stores_nothing(
    admin_client: Client,
) -> None:
    CalibrationTypeFactory(name="gain")
    chosen = uuid.uuid4()
    text = (
        "calibration_id,calibration_type,value,timestamp,username\n"
        ",gain,1,2025-04-01T10:00:00Z,a\n"
        f"{chosen},gain,2,2025-04-01T10:00:00Z,b\n"
    )
    _, preview = upload(admin_client, text)
    assert "Confirm import" in preview
    # Someone records that id meanwhile: the confirmed import must store neither row.
    calibration_create(
        calibration_type=CalibrationTypeFactory(name="gain"),
        value=3.0,
        username="c",
        calibration_id=chosen,
    )
    response = confirm(admin_client, preview)
    assert response.status_code == 302
    assert Calibration.objects.count() == 1
    page = admin_client.get(response["Location"]).content.decode()
    assert "Nothing was imported" in page


def test_each_bad_line_is_written_out_at_its_line_in_the_file(admin_client: Client) -> None:
    # Line 1 is the header, as a spreadsheet numbers rows; a blank line still counts.
    CalibrationTypeFactory(name="gain")
    text = (
        "calibration_type,value,timestamp,username\n"
        "gain,1.5,2025-04-01T10:00:00Z,alice\n"
        "\n"
        "gain,abc,2025-04-01T10:00:00Z,alice\n"
        "gain,1.5,yesterday,bob\n"
    )
    _, page = upload(admin_client, text)
    page = page.replace("&#x27;", "'")
    assert "2 lines of the file cannot be imported" in page
    lines = re.findall(r'<td class="import-line">(\d+)</td>', page)
    assert lines == ["4", "5"]
    problems = re.findall(r'<td class="import-problem">(.*?)</td>', page, re.S)
    assert "<strong>value</strong>: 'abc' is not a number." in problems[0]
    assert "<strong>timestamp</strong>:" in problems[1]
    assert "ISO 8601" in problems[1]
    assert 'class="validation-error-container"' not in page  # not hidden behind a hover
    assert Calibration.objects.count() == 0


@pytest.mark.parametrize("separator", [";", "\t"])
def test_a_file_separated_by_semicolons_or_tabs_is_read_as_such(
    admin_client: Client, separator: str
) -> None:
    CalibrationTypeFactory(name="gain")
    rows = [
        ["calibration_type", "value", "timestamp", "username", "tags"],
        ["gain", "1.5", "2025-04-01T10:00:00Z", "alice", "baseline-2025|reference"],
        ["gain", "2.5", "2025-04-02T10:00:00Z", "bob, senior", ""],  # a comma inside a value
    ]
    _, preview = upload(admin_client, "\n".join(separator.join(row) for row in rows) + "\n")
    assert "Confirm import" in preview, preview[-1500:]
    assert confirm(admin_client, preview).status_code == 302
    assert sorted(Calibration.objects.values_list("username", "value")) == [
        ("alice", 1.5),
        ("bob, senior", 2.5),
    ]


def test_a_decimal_comma_in_a_semicolon_file_says_how_to_write_the_number(
    admin_client: Client,
) -> None:
    CalibrationTypeFactory(name="gain")
    _, page = upload(
        admin_client,
        "calibration_type;value;timestamp;username\ngain;1,5;2025-04-01T10:00:00Z;alice\n",
    )
    page = page.replace("&#x27;", "'")
    assert "'1,5' is not a number: write the decimal mark as a point (1.5)." in page
    assert "InvalidDimensions" not in page


def test_a_line_with_more_fields_than_the_header_names_its_line(admin_client: Client) -> None:
    CalibrationTypeFactory(name="gain")
    _, page = upload(
        admin_client,
        "calibration_type,value,timestamp,username\n"
        "gain,1.5,2025-04-01T10:00:00Z,alice\n"
        "gain,1,5,2025-04-01T10:00:00Z,alice\n",
    )
    assert "Line 3 has 5 fields, the first line 4 (columns separated by commas)" in page
    assert "InvalidDimensions" not in page
    assert Calibration.objects.count() == 0


def test_a_file_without_the_columns_says_which_and_what_the_first_line_should_be(
    admin_client: Client,
) -> None:
    _, page = upload(admin_client, "type value when who\ngain 1.5 2025-04-01 alice\n")
    assert "The file has no column calibration_type, value, timestamp, username." in page
    assert "calibration_id,calibration_type,value,timestamp,username,tags" in page
    assert "Traceback" not in page


def test_a_file_not_in_utf_8_says_how_to_save_it(admin_client: Client) -> None:
    data = io.BytesIO(
        "calibration_type,value,timestamp,username\ngain,1.5,x,Jürgen\n".encode("cp1252")
    )
    data.name = "calibrations.csv"
    response = admin_client.post(
        CHANGELIST + "import/", {"format": "0", "resource": "0", "import_file": data}
    )
    page = response.content.decode()
    assert "The file is not UTF-8 text. Save it as CSV in UTF-8" in page
    assert "UnicodeDecodeError" not in page
