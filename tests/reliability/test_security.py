"""Security promises: revocable tokens, admin lockout, CSRF, headers, no secret in the
repository. The API throttle has its own file, test_throttle.py; `check --deploy` under
production settings is tests/config/test_deployment.py's."""

import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from calibrations.models import Calibration
from tests.factories import CalibrationFactory, UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


# --- tokens -------------------------------------------------------------------------------


def test_a_deleted_token_is_refused_with_401(client_for: Callable[[User], APIClient]) -> None:
    user = UserFactory(username="integrator")
    client = client_for(user)
    assert client.get("/api/tags").status_code == 200
    Token.objects.filter(user=user).delete()
    response = client.get("/api/tags")
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_rotated_token_refuses_the_old_key_and_accepts_the_new(
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = UserFactory(username="integrator")
    old = Token.objects.create(user=user).key
    call_command("drf_create_token", "-r", "integrator")
    new = Token.objects.get(user=user).key
    assert new != old
    assert new in capsys.readouterr().out
    assert Client().get("/api/tags", HTTP_AUTHORIZATION=f"Token {old}").status_code == 401
    assert Client().get("/api/tags", HTTP_AUTHORIZATION=f"Token {new}").status_code == 200


def test_a_deactivated_user_is_refused_even_with_a_valid_token(
    client_for: Callable[[User], APIClient],
) -> None:
    user = UserFactory(username="leaver")
    client = client_for(user)
    user.is_active = False
    user.save()
    assert client.get("/api/tags").status_code == 401


# --- admin login: password guessing --------------------------------------------------------


def admin_login(client: Client, username: str, password: str) -> int:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return response.status_code


def test_the_admin_login_locks_out_after_repeated_failures_even_the_right_password() -> None:
    User.objects.create_superuser("boss", "boss@example.org", "the-right-password-1")
    client = Client()
    for _ in range(4):
        assert admin_login(client, "boss", "guess") == 200  # the form again, with an error
    assert admin_login(client, "boss", "guess") == 429  # the fifth failure locks the pair out
    status = admin_login(client, "boss", "the-right-password-1")
    assert status == 429
    # The console's own page, saying for how long and what to do (axes' was bare text).
    page = client.post(
        "/admin/login/?next=/admin/", {"username": "boss", "password": "guess"}
    ).content.decode()
    assert "<title>Sign-in locked | Calibration &amp; Measurement Service</title>" in page
    assert "Too many failed sign-ins as “boss” from this address (5 in a row)" in page
    assert "locked for 15 minutes" in page
    assert 'href="/admin/login/"' in page
    assert "_auth_user_id" not in client.session
    assert Client().get("/admin/").status_code == 302
    # Another account from the same address is not locked by someone guessing at "boss".
    User.objects.create_superuser("other", "other@example.org", "another-password-2")
    assert admin_login(Client(), "other", "another-password-2") == 302


def test_a_successful_login_resets_the_failure_count() -> None:
    User.objects.create_superuser("boss", "boss@example.org", "the-right-password-1")
    for _ in range(4):
        admin_login(Client(), "boss", "guess")
    assert admin_login(Client(), "boss", "the-right-password-1") == 302
    for _ in range(4):
        admin_login(Client(), "boss", "guess")
    assert admin_login(Client(), "boss", "the-right-password-1") == 302


# --- CSRF on session-authenticated writes ----------------------------------------------------


def test_a_session_write_without_csrf_token_is_refused_and_with_it_accepted(
    superuser: User,
) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(superuser)
    body = {"calibration_type": "gain", "value": 1}
    refused = client.post("/api/calibrations", body, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert not Calibration.objects.exists()

    client.get("/admin/")  # sets the csrftoken cookie, as the browsable API's page would
    token = client.cookies["csrftoken"].value
    accepted = client.post("/api/calibrations", body, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201
    assert Calibration.objects.count() == 1


def test_a_session_delete_without_csrf_token_is_refused(superuser: User) -> None:
    calibration = CalibrationFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(superuser)
    response = client.delete(f"/api/calibrations/{calibration.pk}/tags/anything")
    assert response.status_code == 403


def test_a_token_authenticated_write_needs_no_csrf_token(superuser: User) -> None:
    key = Token.objects.create(user=superuser).key
    client = APIClient(enforce_csrf_checks=True)
    response = client.post(
        "/api/calibrations",
        {"calibration_type": "gain", "value": 1},
        format="json",
        HTTP_AUTHORIZATION=f"Token {key}",
    )
    assert response.status_code == 201


# --- security headers on every response ------------------------------------------------------

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("get", "/healthz", 200),
        ("get", "/readyz", 200),
        ("get", "/api/calibrations", 200),
        ("get", "/api/calibrations", 401),
        ("post", "/api/calibrations", 400),
        ("put", "/api/calibrations", 405),
        ("get", "/api/no-such-route", 404),
        ("get", "/api/schema/", 200),
        ("get", "/api/docs/", 200),
        ("get", "/admin/login/", 200),
        ("get", "/admin/", 302),
        ("get", "/static/no-such-file.css", 404),
        ("get", "/nowhere", 404),
    ],
)
def test_every_response_carries_the_security_headers(
    superuser: User, method: str, url: str, status: int
) -> None:
    client = APIClient()
    if status != 401 and url.startswith("/api/calibrations"):
        client.force_authenticate(superuser)
    response = getattr(client, method)(url, {}, format="json")
    assert response.status_code == status
    for name, value in HEADERS.items():
        assert response.get(name) == value, (url, name)


def test_an_oversized_body_answer_carries_the_security_headers() -> None:
    response = Client().post(
        "/api/calibrations", "x", content_type="application/json", CONTENT_LENGTH="999999999"
    )
    assert response.status_code == 413
    for name, value in HEADERS.items():
        assert response.get(name) == value, name


# --- no secret in the repository -------------------------------------------------------------

# Built from pieces so this file does not match itself.
SECRET_PATTERNS = {
    "private key": re.compile(
        "-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?" + "PRIVATE KEY"
    ),
    "AWS access key": re.compile(r"\bAKIA" + r"[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_" + r"[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[baprs]-" + r"[A-Za-z0-9-]{10,}"),
    "API token in a header": re.compile(r"Token [0-9a-f]{40}\b"),
    "password in a URL": re.compile(
        # Placeholders (`pass`, `PASSWORD`, `$VAR`) are documentation, not secrets.
        r"postgres(?:ql)?://[^:/\s]+:(?!pass@|password@|\$|[A-Z_]+@)[^@\s]{6,}@"
    ),
    "Django secret key": re.compile(
        r"SECRET_KEY\s*=\s*['\"](?!test-only|local-development)[^'\"]{20,}['\"]"
    ),
}


# Tests hold made-up credentials of these kinds on purpose (a parser's fixture).
FIXTURE_KINDS = {"password in a URL"}


def tracked_files() -> list[Path]:
    result = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ROOT / name for name in result.stdout.split("\0") if name]


def test_no_secret_is_committed() -> None:
    files = tracked_files()
    assert files, "not a git checkout?"
    assert not [f for f in files if f.name == ".env" or f.suffix in (".pem", ".key", ".p12")]
    found = []
    for path in files:
        if path.name == "uv.lock" or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        for what, pattern in SECRET_PATTERNS.items():
            if what in FIXTURE_KINDS and path.relative_to(ROOT).parts[0] == "tests":
                continue
            if match := pattern.search(text):
                found.append(f"{path.relative_to(ROOT)}: {what}: {match.group(0)[:30]}…")
    assert not found, "\n".join(found)


def test_the_secret_scan_would_catch_a_private_key_and_a_token() -> None:
    leaked = (
        "-----BEGIN RSA "
        + "PRIVATE KEY-----\n"
        + "curl -H 'Authorization: Token "
        + "ab" * 20
        + "'"
    )
    hits = {what for what, pattern in SECRET_PATTERNS.items() if pattern.search(leaked)}
    assert hits == {"private key", "API token in a header"}


@pytest.mark.parametrize(
    ("text", "caught"),
    [
        ("DATABASE_URL=postgres://app:" + "s3cr3t-pw@db:5432/app", True),
        ("DATABASE_URL=postgres://calibration:PASSWORD@127.0.0.1:5432/calibration", False),
        ("e.g. `postgres://user:pass@host:5432/db`", False),
        ("postgres://app:$POSTGRES_PASSWORD@db/app", False),
    ],
)
def test_the_secret_scan_tells_a_password_from_a_placeholder(text: str, caught: bool) -> None:
    assert bool(SECRET_PATTERNS["password in a URL"].search(text)) is caught
