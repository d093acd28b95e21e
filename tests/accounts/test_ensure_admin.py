"""`ensure_admin`, `make run`'s last step: a local superuser whose printed credentials work."""

import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def ensure_admin(*args: str) -> str:
    out = io.StringIO()
    call_command("ensure_admin", *args, stdout=out)
    return out.getvalue()


def signs_in(username: str, password: str) -> bool:
    """Through the admin's login form, as a person would (a success redirects to the admin)."""
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return response.status_code == 302 and client.get("/admin/").status_code == 200


@override_settings(DEBUG=True)
def test_ensure_admin_creates_a_superuser_whose_printed_password_signs_in_to_the_admin() -> None:
    out = ensure_admin("--username", "dev", "--password", "dev-pw-1", "--port", "8123")
    assert "Created local admin user." in out
    assert "user 'dev', password 'dev-pw-1'" in out
    assert "http://127.0.0.1:8123/admin/" in out
    assert signs_in("dev", "dev-pw-1")


@override_settings(DEBUG=True)
def test_ensure_admin_prints_an_api_token_that_authenticates() -> None:
    out = ensure_admin()
    key = re.search(r"Authorization: Token ([0-9a-f]{40})", out)
    assert key, out
    response = Client().get("/api/calibrations", HTTP_AUTHORIZATION=f"Token {key[1]}")
    assert response.status_code == 200


@override_settings(DEBUG=True)
def test_ensure_admin_run_again_resets_the_password_and_keeps_one_user() -> None:
    ensure_admin("--password", "first-pw-1")
    out = ensure_admin("--password", "second-pw-2")
    assert "Reset local admin user." in out
    assert User.objects.filter(username="admin").count() == 1
    assert signs_in("admin", "second-pw-2")
    assert not signs_in("admin", "first-pw-1")


@override_settings(DEBUG=False)
def test_ensure_admin_refuses_to_run_when_debug_is_off_and_creates_no_one() -> None:
    with pytest.raises(CommandError, match="local development only"):
        ensure_admin()
    assert not User.objects.exists()


@override_settings(DEBUG=True)
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--username", ""], "--username: blank is refused"),
        (["--username", "   "], "--username: blank is refused"),
        (["--username", "bad name"], "--username: 'bad name' is refused"),
        (["--password", ""], "--password: blank is refused"),
        (["--password", "  "], "--password: blank is refused"),
    ],
)
def test_ensure_admin_refuses_a_blank_or_unusable_username_or_password_and_prints_no_token(
    args: list[str], message: str
) -> None:
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("ensure_admin", *args, stdout=out)
    assert "Token" not in out.getvalue()
    assert not User.objects.exists()
