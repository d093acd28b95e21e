"""The browsable API, the integrators' console: help texts as code, forms that post JSON."""

import re
from typing import Any

from django.utils.safestring import SafeString, mark_safe
from rest_framework import renderers
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import BaseParser

_TEXT = re.compile(r">([^<]+)<")
_CODE = re.compile(r"`([^`\n]+)`")


def code_spans(html: str) -> SafeString:
    """`html` with each `name` in its text (not in its attributes) set as <code>name</code>.

    Help texts are written in Markdown for Swagger and ReDoc; the browsable API's forms show
    them as plain text, where the backticks were noise. Values the user typed sit in attributes
    (`value="…"`), which are left alone.
    """
    # Wrapped in `>…<` so that text before the first tag and after the last is text too.
    marked = _TEXT.sub(lambda m: ">" + _CODE.sub(r"<code>\1</code>", m.group(1)) + "<", f">{html}<")
    # Escaped HTML came in; only <code> tags were added.
    return mark_safe(marked[1:-1])


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's browsable API with help texts' `code` rendered as code."""

    def get_rendered_html_form(self, data: Any, view: Any, method: str, request: Any) -> Any:
        form = super().get_rendered_html_form(data, view, method, request)
        return code_spans(form) if isinstance(form, str) else form

    def get_filter_form(self, data: Any, view: Any, request: Any) -> Any:
        form = super().get_filter_form(data, view, request)
        return code_spans(form) if isinstance(form, str) else form

    def get_description(self, view: Any, status_code: int) -> str:
        return code_spans(super().get_description(view, status_code))


class HTMLFormPlaceholderParser(BaseParser):
    """Declares `multipart/form-data` so the browsable API offers HTML forms, and refuses it.

    The API reads JSON only (a form body is a 415, as before). The browsable API renders a
    POST form only for views that list a form media type among their parsers; its page
    script (`static/console/api-forms.js`) then sends that form as a JSON body.
    """

    media_type = "multipart/form-data"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raise UnsupportedMediaType(media_type or self.media_type)
