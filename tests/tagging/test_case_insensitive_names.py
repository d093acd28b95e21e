"""Tag names are unique and looked up case-insensitively on both databases, non-ASCII letters
included (DESIGN §3): SQLite's UPPER() and LIKE fold ASCII only, so before the stored key
"Température Ω check" and "TEMPÉRATURE Ω CHECK" were two tags there."""

import importlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tagging.models import Tag, TagAssignment, tag_key, tag_sort_key
from tagging.services import tags_add
from tests.factories import CalibrationFactory, TagFactory

pytestmark = pytest.mark.django_db

# (first spelling, the same tag in another case)
SPELLINGS = [
    ("Température Ω check", "TEMPÉRATURE Ω CHECK"),
    ("Ärger mit Leerzeichen", "ärger mit leerzeichen"),
    ("Straße", "STRASSE"),  # full case folding: ß is ss
    ("Ωhm", "\u2126HM"),  # OHM SIGN is canonically GREEK CAPITAL OMEGA
    ("Café", "CAFE\u0301"),  # a precomposed é, and E followed by a combining accent
]


@pytest.mark.parametrize(("first", "other"), SPELLINGS)
def test_posting_a_tag_in_another_case_reuses_the_first_spelling(
    writer_client: APIClient, first: str, other: str
) -> None:
    calibration = CalibrationFactory()
    url = f"/api/calibrations/{calibration.pk}/tags"
    assert writer_client.post(url, {"tag": first}, format="json").status_code == 201
    again = writer_client.post(url, {"tag": other}, format="json")
    assert again.status_code == 200  # already carried: the same tag
    assert again.json()["tag"] == first
    assert list(Tag.objects.values_list("name", flat=True)) == [first]


@pytest.mark.parametrize(("first", "other"), SPELLINGS)
def test_a_tag_is_found_by_any_spelling_on_every_route(
    writer_client: APIClient, first: str, other: str
) -> None:
    calibration = CalibrationFactory()
    tags_add(calibration=calibration, names=[first], user=None)
    for spelling in (first, other, other.lower(), first.upper()):
        one = writer_client.get(f"/api/tags/{quote(spelling)}")
        assert one.status_code == 200, spelling
        assert one.json()["name"] == first
        carrying = writer_client.get(f"/api/tags/{quote(spelling)}/calibrations")
        assert [c["calibration_id"] for c in carrying.json()["results"]] == [str(calibration.pk)]
        listed = writer_client.get("/api/calibrations", {"tag": spelling})
        assert [c["calibration_id"] for c in listed.json()["results"]] == [str(calibration.pk)]
        snapshot = writer_client.get("/api/snapshot", {"tag": spelling, "format": "csv"})
        assert str(calibration.pk) in b"".join(snapshot.streaming_content).decode()
    removed = writer_client.delete(f"/api/calibrations/{calibration.pk}/tags/{quote(other)}")
    assert removed.status_code == 200
    assert removed.json()["tag"] == first


def test_two_spellings_in_one_request_make_one_tag(writer_client: APIClient) -> None:
    calibration = CalibrationFactory()
    response = writer_client.post(
        f"/api/calibrations/{calibration.pk}/tags",
        {"tags": ["Ärger mit Leerzeichen", "ÄRGER MIT LEERZEICHEN"]},
        format="json",
    )
    assert response.status_code == 201
    assert [a["tag"] for a in response.json()] == ["Ärger mit Leerzeichen"]
    assert Tag.objects.count() == 1


def test_the_database_refuses_a_second_spelling_written_around_the_services() -> None:
    Tag.objects.create(name="Température Ω check")
    refused = r"tagging_tag_name_unique_ci|tagging_tag\.name_key"
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        Tag.objects.create(name="TEMPÉRATURE Ω CHECK")
    with pytest.raises(IntegrityError, match=refused), transaction.atomic():
        Tag.objects.bulk_create([Tag(name="température ω CHECK")])
    assert Tag.objects.count() == 1


def test_the_tag_list_sorts_as_every_other_list_of_tag_names(reader_client: APIClient) -> None:
    names = ["beta", "Alpha", "Zulu", "alpha-2", "Émile", "echo", "ärger", "Zeta"]
    for name in names:
        TagFactory(name=name)
    seen: list[str] = []
    url = "/api/tags?page_size=3"
    while url:
        page = reader_client.get(url).json()
        seen += [tag["name"] for tag in page["results"]]
        url = page["next"]
    assert seen == sorted(names, key=tag_sort_key)
    assert seen[:2] == ["Alpha", "alpha-2"]  # not every capital before every small letter


def test_a_calibration_lists_its_tags_in_the_tag_lists_order(writer_client: APIClient) -> None:
    names = ["beta", "Alpha", "Émile", "echo", "Zulu"]
    created = writer_client.post(
        "/api/calibrations",
        {"calibration_type": "gain", "value": 1.0, "tags": names},
        format="json",
    ).json()
    listed = [t["name"] for t in writer_client.get("/api/tags").json()["results"]]
    assert created["tags"] == listed == sorted(names, key=tag_sort_key)


def test_the_admin_finds_a_tag_by_a_part_of_its_name_in_any_case(admin_client: Client) -> None:
    TagFactory(name="Ärger mit Leerzeichen")
    TagFactory(name="Température Ω check")
    TagFactory(name="other")
    for term, found in [
        ("ärger", "Ärger mit Leerzeichen"),
        ("LEERZEICHEN", "Ärger mit Leerzeichen"),
        ("TEMPÉRATURE", "Température Ω check"),
        ("ω CHE", "Température Ω check"),
    ]:
        page = admin_client.get("/admin/tagging/tag/", {"q": term}).content.decode()
        assert found in page, term
        assert ">other<" not in page, term


def test_the_admin_s_calibration_search_filter_and_history_find_a_tag_in_any_case(
    admin_client: Client,
) -> None:
    carrying, other = CalibrationFactory(), CalibrationFactory()
    tags_add(calibration=carrying, names=["Ärger mit Leerzeichen"], user=None)
    for params in (
        {"q": "ärger mit leerzeichen"},
        {"tag": "ÄRGER MIT LEERZEICHEN"},
    ):
        page = admin_client.get("/admin/calibrations/calibration/", params).content.decode()
        assert str(carrying.pk)[:8] in page, params
        assert str(other.pk)[:8] not in page, params
    history = admin_client.get("/admin/tagging/tagassignment/", {"q": "ärger MIT leerzeichen"})
    assert str(carrying.pk)[:8] in history.content.decode()
    periods = admin_client.get(
        "/admin/tagging/tagassignment/", {"tag_name": "ÄRGER mit leerzeichen"}
    )
    assert str(carrying.pk)[:8] in periods.content.decode()


def test_the_admin_add_page_refuses_a_name_taken_in_another_case(admin_client: Client) -> None:
    TagFactory(name="Ärger mit Leerzeichen")
    response = admin_client.post("/admin/tagging/tag/add/", {"name": "ÄRGER mit leerzeichen"})
    assert response.status_code == 200
    assert "already exists, spelt &#x27;Ärger mit Leerzeichen&#x27;" in response.content.decode()
    assert Tag.objects.count() == 1


def test_the_admin_add_page_creates_a_tag_trimmed(admin_client: Client) -> None:
    response = admin_client.post("/admin/tagging/tag/add/", {"name": "  Neue Prüfung  "})
    assert response.status_code == 302
    tag = Tag.objects.get()
    assert (tag.name, tag.name_key) == ("Neue Prüfung", "neue prüfung")


@pytest.mark.postgresql
def test_the_lookup_of_a_tag_by_name_walks_the_unique_index() -> None:
    Tag.objects.bulk_create(Tag(name=f"tag-{i:05d}") for i in range(3000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE tagging_tag")
    sql, params = Tag.objects.named("TAG-01234").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using tagging_tag_name_unique_ci" in plan, plan
    assert Tag.objects.named("TAG-01234").get().name == "tag-01234"


# ---------------------------------------------------------------------------------------------
# The migration that brought the key: tags stored in two spellings before it are merged.

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _at(days: int) -> datetime:
    return T0 + timedelta(days=days)


@pytest.mark.django_db(transaction=True)
def test_the_migration_merges_two_spellings_into_the_oldest_keeping_every_answer() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("tagging", "0004_tagassignment_added_at_index")])
    old = executor.loader.project_state(("tagging", "0004_tagassignment_added_at_index")).apps
    OldTag = old.get_model("tagging", "Tag")
    OldAssignment = old.get_model("tagging", "TagAssignment")
    OldCalibration = old.get_model("calibrations", "Calibration")
    OldType = old.get_model("calibrations", "CalibrationType")
    OldUser = old.get_model("auth", "User")
    alice, bob = OldUser.objects.create(username="alice"), OldUser.objects.create(username="bob")
    gain, _ = OldType.objects.get_or_create(name="gain")

    def calibration() -> object:
        return OldCalibration.objects.create(calibration_type=gain, value=1.0, username="x")

    # One tag in two spellings, which UPPER(name) let both databases store (and SQLite
    # "Ärger" beside "ärger" too: its UPPER knows ASCII only).
    first = OldTag.objects.create(name="Straße", created_at=_at(0))
    second = OldTag.objects.create(name="STRASSE", created_at=_at(1))
    lone = OldTag.objects.create(name="Ruhe", created_at=_at(0))
    overlapping, apart, only_second = calibration(), calibration(), calibration()

    def period(cal, tag, start, end=None, by=None, removed_by=None):  # type: ignore[no-untyped-def]
        return OldAssignment.objects.create(
            calibration=cal,
            tag=tag,
            added_at=_at(start),
            removed_at=None if end is None else _at(end),
            added_by=by,
            removed_by=removed_by,
            calibration_timestamp=cal.timestamp,
        )

    # Overlapping periods of one calibration (both open at the end): one period from day 2 on.
    period(overlapping, first, 2, 6, by=alice, removed_by=alice)
    period(overlapping, second, 4, None, by=bob)
    period(overlapping, first, 8, None, by=alice)
    # Periods that do not overlap stay two.
    period(apart, first, 2, 3, by=alice, removed_by=alice)
    period(apart, second, 5, 7, by=bob, removed_by=bob)
    period(only_second, second, 3, None, by=bob)
    period(only_second, lone, 3, None, by=bob)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    merged = Tag.objects.get(name="Straße")
    assert list(Tag.objects.order_by("name").values_list("name", "name_key")) == [
        ("Ruhe", "ruhe"),
        ("Straße", "strasse"),
    ]
    assert Tag.objects.named("strasse").get() == merged

    def periods(cal: object) -> list[tuple[datetime, datetime | None, str | None, str | None]]:
        rows = TagAssignment.objects.filter(calibration_id=cal.pk, tag=merged).order_by("added_at")  # type: ignore[attr-defined]
        return [
            (
                p.added_at,
                p.removed_at,
                p.added_by.username if p.added_by else None,
                p.removed_by.username if p.removed_by else None,
            )
            for p in rows.select_related("added_by", "removed_by")
        ]

    assert periods(overlapping) == [(_at(2), None, "alice", None)]
    assert periods(apart) == [(_at(2), _at(3), "alice", "alice"), (_at(5), _at(7), "bob", "bob")]
    assert periods(only_second) == [(_at(3), None, "bob", None)]
    assert TagAssignment.objects.filter(tag__name="Ruhe").count() == 1
    # Every as-of answer is what either spelling answered.
    carrying = Calibration.objects.filter(
        tag_assignments__in=TagAssignment.objects.as_of(_at(5)).filter(tag=merged)
    )
    assert set(carrying.values_list("pk", flat=True)) == {overlapping.pk, apart.pk, only_second.pk}  # type: ignore[attr-defined]
    assert User.objects.count() == 2


def test_the_migration_fills_the_key_as_the_model_computes_it() -> None:
    migration = importlib.import_module("tagging.migrations.0005_tag_name_key")
    for first, other in SPELLINGS:
        assert migration.key(first) == migration.key(other) == tag_key(other)
    Tag.objects.create(name="Ärger")
    Tag.objects.filter(name="Ärger").update(name_key="stale")
    editor = connection.schema_editor()
    migration.fill_keys_and_merge(django_apps, editor)
    assert Tag.objects.get().name_key == "ärger"


@pytest.mark.parametrize(("typed", "message"), [("a/b", "must not contain"), ("   ", "required")])
def test_the_admin_add_page_refuses_a_name_no_tag_can_have(
    admin_client: Client, typed: str, message: str
) -> None:
    response = admin_client.post("/admin/tagging/tag/add/", {"name": typed})
    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not Tag.objects.exists()
