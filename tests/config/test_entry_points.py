"""The WSGI and ASGI applications servers load (`config.wsgi`, `config.asgi`) answer requests."""

import asyncio
import io
from wsgiref.util import setup_testing_defaults

import pytest
from asgiref.sync import async_to_sync

from config.asgi import application as asgi_application
from config.wsgi import application as wsgi_application

# The probe itself needs no database, but every request's start and end let Django check its
# connections.
pytestmark = pytest.mark.django_db


def test_the_wsgi_application_answers_the_liveness_probe() -> None:
    environ: dict[str, object] = {"PATH_INFO": "/healthz", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    started: list[str] = []
    body = b"".join(wsgi_application(environ, lambda status, headers, *exc: started.append(status)))
    assert started == ["200 OK"]
    assert body == b'{"status": "ok"}'


def test_the_asgi_application_answers_the_liveness_probe() -> None:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/healthz",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, object]] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected until the answer is sent
        raise AssertionError("unreachable")

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async_to_sync(asgi_application)(scope, receive, send)
    assert sent[0]["status"] == 200
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b'{"status": "ok"}'  # type: ignore[misc]
