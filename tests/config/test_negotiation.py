"""The content negotiation shortcut answers what DRF's negotiation answers."""

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api.negotiation import JSONFirstContentNegotiation
from config.api.renderers import JSONRenderer


@pytest.mark.parametrize(
    ("accept", "query"),
    [
        (None, ""),
        ("*/*", ""),
        ("application/json", ""),
        ("application/json; indent=4", ""),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ""),
        ("text/html", ""),
        ("*/*", "?format=api"),
        ("*/*", "?format=json"),
    ],
)
def test_picks_what_drf_picks(accept: str | None, query: str) -> None:
    headers = {"HTTP_ACCEPT": accept} if accept is not None else {}
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    request = Request(APIRequestFactory().get("/api/calibrations" + query, **headers))
    ours = JSONFirstContentNegotiation().select_renderer(request, renderers)
    drfs = DefaultContentNegotiation().select_renderer(request, renderers)
    assert (type(ours[0]), ours[1]) == (type(drfs[0]), drfs[1])
