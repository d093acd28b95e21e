"""Delivery through Apprise (one URL per target): checking a URL, masking its secrets, sending.

Apprise knows which parts of each of its URLs are secrets (a password, a webhook's token, a
bot's key): its private rendering of a URL hides them. Masking compares that rendering with
the plain one and puts `***` in place of each part that differs, in the URL as written, plus
the values of query parameters named like secrets, which a webhook passes on as written.
"""

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import apprise
from apprise.decorators import notify
from apprise.plugins.custom_json import NotifyJSON
from django.conf import settings

logger = logging.getLogger(__name__)
console_logger = logging.getLogger("monitoring.console")

MASK = "***"
_SEPARATORS = re.compile(r"([/:@?&=#]+)")
_SECRET_PARAMETER = re.compile(r"token|key|secret|pass|auth|sig|code|credential", re.IGNORECASE)


@notify(on="console", name="The worker's log")
def _to_the_log(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    """`console://`: the notification written to the worker's log (`make run` prints it)."""
    console_logger.warning("%s\n%s", title, body)
    return True


def _plugin(url: str) -> Any:
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:  # Apprise raises assorted errors on malformed URLs
        return None


def url_problem(url: object) -> str | None:
    """Why Apprise cannot send to `url`, or None when it can."""
    if not isinstance(url, str) or not url.strip():
        return "A target needs an Apprise URL, e.g. mailto://… or jsons://…"
    if len(url) > 2000:
        return "An Apprise URL has at most 2,000 characters."
    if _plugin(url.strip()) is None:
        return f"Apprise cannot send to this URL: {masked(url)}"
    return None


def secrets_of(url: str) -> set[str]:
    """The parts of `url` that are secrets: what Apprise hides, what the URL's password is, and
    the values of query parameters named like a token or key."""
    found: set[str] = set()
    plugin = _plugin(url)
    if plugin is not None:
        plain = _SEPARATORS.split(plugin.url(privacy=False))
        private = _SEPARATORS.split(plugin.url(privacy=True))
        if len(plain) == len(private):
            found |= {unquote(a) for a, b in zip(plain, private, strict=True) if a != b and a}
    parts = urlsplit(url)
    if parts.password:
        found.add(unquote(parts.password))
    for name, value in parse_qsl(parts.query, keep_blank_values=False):
        if _SECRET_PARAMETER.search(name.lstrip(":+-")) and value:
            found.add(value)
    return {secret for secret in found if secret}


def masked(url: str, text: str | None = None) -> str:
    """`text` (default: the URL itself) with every secret of `url` replaced by `***`."""
    result = url if text is None else text
    # Longest first, so a secret that contains another is replaced whole.
    for secret in sorted(secrets_of(url), key=len, reverse=True):
        for spelling in {secret, quote(secret, safe=""), quote(secret)}:
            result = result.replace(spelling, MASK)
    return result


def send(url: str, *, title: str, body: str, payload: dict[str, Any]) -> str | None:
    """Send one notification; None when it was handed over, else what went wrong (masked).

    A webhook (`json://`, `jsons://`) gets `payload`'s keys in its JSON body beside Apprise's
    own (`title`, `message`, `type`), so a receiver can read the notification's id and drop
    a repeat delivery."""
    plugin = _plugin(url)
    if plugin is None:
        return "Apprise cannot send to this URL."
    if isinstance(plugin, NotifyJSON):
        plugin.payload_extras.update(payload)
    plugin.socket_read_timeout = settings.NOTIFY_TIMEOUT_SECONDS
    plugin.socket_connect_timeout = min(settings.NOTIFY_TIMEOUT_SECONDS, 5.0)
    sender = apprise.Apprise()
    sender.add(plugin)
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        try:
            sent = sender.notify(body=body, title=title)
        except Exception as error:  # a plugin's own failure must not stop the worker
            logger.warning("notification: %s failed: %s", masked(url), masked(url, str(error)))
            return masked(url, f"{type(error).__name__}: {error}")[:2000]
        output = log.getvalue().strip()
    if sent:
        return None
    return masked(url, output or "Apprise could not deliver the notification.")[-2000:]
