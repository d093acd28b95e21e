"""The operator console is the lab's: its name, "View site", UTC times, icon, who sees what."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import CalibrationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_console_has_its_own_title_and_view_site_leads_to_the_api_root(
    admin_client: Client,
) -> None:
    page = admin_client.get("/admin/").content.decode()
    assert "Calibration &amp; Measurement Service" in page
    assert "Django administration" not in page
    assert 'href="/api/"' in page
    assert "console/favicon.svg" in page


def test_the_favicon_is_served_from_our_static_files(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("console/favicon.svg")


def test_times_in_the_lists_say_they_are_utc(admin_client: Client) -> None:
    CalibrationFactory()
    page = admin_client.get("/admin/calibrations/calibration/").content.decode()
    assert " UTC</td>" in page


@pytest.mark.parametrize(
    "path",
    ["/admin/axes/accessattempt/", "/admin/axes/accesslog/", "/admin/authtoken/tokenproxy/"],
)
def test_lockouts_and_tokens_are_for_superusers_only(path: str, admin_client: Client) -> None:
    staff = UserFactory(
        username="clerk",
        permissions=[
            "axes.view_accessattempt",
            "axes.view_accesslog",
            "authtoken.view_tokenproxy",
            "authtoken.change_tokenproxy",
        ],
    )
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    clerk = Client()
    clerk.force_login(staff)
    assert clerk.get(path).status_code == 403
    assert "Access attempts" not in clerk.get("/admin/").content.decode()
    assert admin_client.get(path).status_code == 200
