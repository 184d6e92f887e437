"""JSON bodies: JSON only, read strictly, as the API's schema says.

A route that takes a JSON body takes it only as JSON: any other Content-Type is a 415 naming
the accepted types, before anything is read. Litestar alone decodes the body as JSON whatever
its declared type, so a ``text/plain`` body was taken too; and ``text/plain`` is a type a page
on another site may send with its visitors' browsers without asking (a no-cors fetch, a form),
where ``application/json`` needs a CORS preflight, which Gourmet never grants. Routes whose
body is declared as a form (the staff sign-in page) are left to Litestar.

Litestar converts a handler's ``data`` in lax mode: ``1`` would pass for ``true`` and ``"3"``
for ``3``. A client that sends the wrong type has a bug, and guessing what it meant is how a
quantity or a flag ends up other than the customer chose. So before the handler runs, the body
is decoded once more with msgspec in strict mode against the handler's own ``data`` type, and a
mismatch is a 400 that names the field. Litestar then decodes the same bytes as before (the
body is read once and cached on the request).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import BodyKwarg
from litestar.typing import FieldDefinition

from gourmet.media_types import ACCEPT_HEADERS, JSON_MEDIA_TYPES
from gourmet.problems import Problem

_AT = " - at `"
_MISSING = re.compile(r"missing required field `([^`]+)`")


async def decode_strictly(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: refuse a body that is not sent as JSON to a route that takes
    JSON (415), and a JSON body whose values are not of the declared types (400)."""
    data = request.route_handler.parsed_data_field
    if data is None or not takes_json(data):
        return
    media_type = request.content_type[0]
    if not is_json(media_type):
        raise not_json(request.method, media_type)
    body = await request.body()
    try:
        msgspec.json.decode(body, type=data.annotation, strict=True)
    except msgspec.ValidationError as exc:
        message, _sep, where = str(exc).partition(_AT)
        key = _key(where.rstrip("`").removeprefix("$").removeprefix("."), message)
        raise ValidationException(
            detail=message, extra=[{"key": key, "message": message, "source": "body"}]
        ) from exc
    except msgspec.DecodeError:
        return  # not JSON: Litestar's own decoding answers it


def takes_json(data: FieldDefinition) -> bool:
    """Whether a handler's ``data`` is a JSON body: declared so, or not declared at all (what
    Litestar then assumes)."""
    body = data.kwarg_definition
    if not isinstance(body, BodyKwarg) or body.media_type is None:
        return True
    return body.media_type == RequestEncodingType.JSON


def is_json(media_type: str) -> bool:
    """``media_type`` as Litestar parses it (lowercased, without parameters)."""
    kind, _slash, subtype = media_type.partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def not_json(method: str, media_type: str) -> Problem:
    # The type as sent, cut short: a client chooses its length, and the answer should not.
    sent = f"a body of type {media_type[:100]}" if media_type else "a body with no Content-Type"
    problem = Problem.from_http(
        415,
        f"This endpoint takes JSON only (Content-Type: application/json), not {sent}; "
        "nothing was done.",
        accepted=list(JSON_MEDIA_TYPES),
    )
    if name := ACCEPT_HEADERS.get(method):
        problem.headers[name] = ", ".join(JSON_MEDIA_TYPES)
    return problem


def _key(path: str, message: str) -> str:
    """The field a message is about: the path msgspec gives, with a missing field's name
    added (msgspec names the object that lacks it)."""
    if missing := _MISSING.search(message):
        return f"{path}.{missing[1]}" if path else missing[1]
    return path or "body"
