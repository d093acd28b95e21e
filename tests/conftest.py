"""Fixtures shared by every test: API clients signed in as users with specific permissions."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import UserFactory

WRITER_PERMISSIONS = [
    "calibrations.add_calibration",
    "tagging.add_tagassignment",
    "tagging.change_tagassignment",
]


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def client_for(db: None) -> Callable[[User], APIClient]:
    """A client that authenticates as `user` with a real API token."""

    def make(user: User) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return make


@pytest.fixture
def reader(db: None) -> User:
    """Signed in, no model permissions: may read, may not write."""
    return UserFactory(username="reader")


@pytest.fixture
def writer(db: None) -> User:
    """May record calibrations and add/remove tags."""
    return UserFactory(username="writer", permissions=WRITER_PERMISSIONS)


@pytest.fixture
def reader_client(client_for: Callable[[User], APIClient], reader: User) -> APIClient:
    return client_for(reader)


@pytest.fixture
def writer_client(client_for: Callable[[User], APIClient], writer: User) -> APIClient:
    return client_for(writer)


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def superuser_client(client_for: Callable[[User], APIClient], superuser: User) -> APIClient:
    return client_for(superuser)
