"""OpenAPI generation: every operation documents the errors any route can answer."""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent

_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A 400 names the fields that were wrong (`{"value": ["…"]}`), or says `{"detail": "…"}`.
_VALIDATION = {
    "type": "object",
    "additionalProperties": True,
    "description": 'Keyed by field (`{"value": ["…"]}`) or `{"detail": "…"}`.',
}

_COMMON = {
    "401": ("Error", "Not signed in: no token or session, or a revoked token."),
    "403": ("Error", "Signed in without the permission this write needs, or no CSRF token."),
    "429": ("Error", "Too many requests from this user; `Retry-After` says when to retry."),
    "503": ("Error", "The database is unavailable; `Retry-After` says when to retry."),
}
_WITH_BODY = {
    "413": ("Error", "The request body is larger than the configured limit."),
    "415": ("Error", "The request body is not JSON."),
}


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus the error answers each operation can give."""

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter.get("in") == "query" and schema.get("type") == "string":
                # Given empty, a query parameter is a 400 (config/api/query.py), not absent.
                schema.setdefault("minLength", 1)
        responses: dict[str, Any] = operation.setdefault("responses", {})
        errors = dict(_COMMON)
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(_WITH_BODY)
        if self.method in ("POST", "PUT", "PATCH") or operation.get("parameters"):
            errors["400"] = ("ValidationError", "Invalid input; the body names the field.")
        if any(p.get("in") == "path" for p in operation.get("parameters", [])):
            errors["404"] = ("Error", "Not found; the body says what.")
        # Answered by the HTTP server (gunicorn's request-line limit) before Django, so it is
        # its HTML, not our JSON: documented without a body.
        responses.setdefault(
            "414", {"description": "The URL is longer than the server accepts (about 4 KB)."}
        )
        for code, (component, description) in errors.items():
            ref = self._error_component(component)
            existing = responses.get(code)
            if existing is None:
                responses[code] = {
                    "content": {"application/json": {"schema": ref}},
                    "description": description,
                }
            elif "content" not in existing:
                # Described by the view (`OpenApiResponse(description=…)`) without a body.
                existing["content"] = {"application/json": {"schema": ref}}
        return operation

    def _error_component(self, name: str) -> dict[str, str]:
        component = ResolvedComponent(
            name=name,
            type=ResolvedComponent.SCHEMA,
            object=name,
            schema=_VALIDATION if name == "ValidationError" else _DETAIL,
        )
        self.registry.register_on_missing(component)
        return component.ref


def add_request_server(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Name the server the schema was fetched from, so docs' samples show real URLs."""
    if request is not None:
        result["servers"] = [
            {"url": request.build_absolute_uri("/").rstrip("/"), "description": "This server"}
        ]
    return result
