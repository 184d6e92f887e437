"""The OpenAPI document made true: what Litestar generates, completed with what it cannot know.

Litestar documents each operation's success and a generic 400. Gourmet answers every error as
``application/problem+json`` (``problems.py``), refuses a customer at a staff door, sheds load
with 503 and Retry-After, throttles sign-ins, and streams events. It also drops constraints on
optional fields (a ``minimum`` of 0 is lost, items' lengths are not carried). So once the app
has started, the document is completed in place: request and response bodies take msgspec's
own JSON Schema of the same structs (the one that validates them), and each operation lists the
problems it can answer, derived from what the route is (guarded, with a body, with path
parameters, throttled). ``tests/test_openapi_fuzz.py`` holds it to the server's answers with
schemathesis.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import msgspec
from litestar import Litestar, Request
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.routes import HTTPRoute

from gourmet.media_types import ACCEPT_HEADERS, JSON_MEDIA_TYPES

PROBLEM_JSON: Final = "application/problem+json"
EVENT_STREAM: Final = "text/event-stream"
REF: Final = "#/components/schemas/{name}"
WRITES: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes that count a client's attempts and answer 429 past the limit (accounts/throttle.py,
# accounts/limits.py, the checkout limit per client).
THROTTLED: Final = frozenset(
    {
        ("POST", "/api/session"),
        ("POST", "/api/accounts"),
        ("POST", "/api/orders"),
        ("POST", "/api/password-resets"),
        ("POST", "/api/password-resets/use"),
        ("POST", "/api/me/delete"),
    }
)
# Checks a password: wrong ones are answered 401.
SIGN_IN: Final = ("POST", "/api/session")
# Answered 401 without a session by the handler itself (no guard: the route is a customer's).
SIGNED_IN: Final = "/api/me"
# Each event of a stream, as schemathesis and clients read it.
EVENT_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "event": {"type": "string"},
        "data": {"type": "string"},
        "id": {"type": "string"},
        "retry": {"type": "integer"},
    },
}
# Answer CSV too, when their query asks (format=...): the sales report's exports.
CSV_EXPORTS: Final = frozenset({("GET", "/api/manage/reports")})
CSV: Final = "text/csv"
# Never behind admission control, never waiting on the database.
ALWAYS_ANSWERED: Final = frozenset({"/healthz"})

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "accepted": {"type": "array", "items": {"type": "string"}},  # a 415's media types
    },
}

WHY: Final = {
    400: "The request cannot be read (syntax, parameters, a header)",
    401: "Credentials are needed, or they are not valid",
    403: "The credentials do not open this door, or the request is not from our pages",
    404: "Nothing here by that id or token",
    409: "The request conflicts with the current state",
    413: "The body is too large",
    415: f"The body is not sent as JSON (Content-Type: {' or '.join(JSON_MEDIA_TYPES)})",
    422: "The body is read but its values are not acceptable",
    429: "Too many attempts from this client or for this account; see Retry-After",
    503: "Busy or the database is unavailable; see Retry-After",
}
RETRY_AFTER: Final = {
    "Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}
}


class JsonDocument(JsonRenderPlugin):
    """``/api/schema/openapi.json``, completed. The only rendering served: Litestar's viewers
    (Swagger UI, ReDoc...) load their scripts from a CDN, with no integrity check, on the origin
    where staff sign in."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        complete(request.app, openapi_schema)
        return super().render(request, openapi_schema)


def complete(app: Litestar, document: dict[str, Any]) -> None:
    """Complete ``document`` (the app's own OpenAPI dict, generated once and kept by Litestar)
    in place; a document already completed is left as it is."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    if schemas.get("Problem") is PROBLEM_SCHEMA:
        return
    _take_msgspec_schemas(schemas)
    schemas["Problem"] = PROBLEM_SCHEMA
    guarded = dict(_guarded(app))
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method.upper() not in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                continue
            key = (method.upper(), path)
            _document(operation, key, guarded.get(key, False))


def _document(operation: dict[str, Any], key: tuple[str, str], guarded: bool) -> None:
    method, path = key
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, response in responses.items():
        if status == "204":
            response.pop("content", None)
        elif status.startswith("2") and path.endswith("/events"):
            response["content"] = {EVENT_STREAM: {"schema": EVENT_SCHEMA}}
        elif status.startswith("2") and key in CSV_EXPORTS:
            response.setdefault("content", {})[CSV] = {"schema": {"type": "string"}}
    codes = {400, 422}
    if guarded:
        codes |= {401, 403}
    if key == SIGN_IN or path == SIGNED_IN or path.startswith(SIGNED_IN + "/"):
        codes.add(401)
    if method in WRITES:
        codes |= {403, 409}  # cross-site posts are refused; writes meet the state
    if "requestBody" in operation:
        codes |= {413, 415}
    if any(p.get("in") == "path" for p in operation.get("parameters", [])):
        codes.add(404)
    if key in THROTTLED:
        codes.add(429)
    if path not in ALWAYS_ANSWERED:
        codes.add(503)
    for code in sorted(codes):
        response = {
            "description": WHY[code],
            "content": {PROBLEM_JSON: {"schema": {"$ref": REF.format(name="Problem")}}},
        }
        if code in (429, 503):
            response["headers"] = RETRY_AFTER
        elif code == 415 and (accept := ACCEPT_HEADERS.get(method)):
            response["headers"] = {
                accept: {"description": "the media types taken", "schema": {"type": "string"}}
            }
        responses[str(code)] = response


def _guarded(app: Litestar) -> Iterator[tuple[tuple[str, str], bool]]:
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    yield (method, route.path_format), bool(handler.resolve_guards())


def _take_msgspec_schemas(schemas: dict[str, Any]) -> None:
    """Each struct's schema as msgspec writes it (the validator's own constraints), for every
    component Litestar named after one of Gourmet's structs."""
    structs = {t.__name__: t for t in _structs(msgspec.Struct)}
    ours = [structs[name] for name in schemas if name in structs]
    if not ours:
        return
    _, components = msgspec.json.schema_components(ours, ref_template=REF)
    schemas.update(components)


def _structs(base: type) -> Iterator[type]:
    sub: type
    for sub in base.__subclasses__():
        if sub.__module__.startswith("gourmet."):
            yield sub
        yield from _structs(sub)
