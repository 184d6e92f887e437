"""JSON bodies read strictly, as the API's schema says.

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
from litestar.exceptions import ValidationException

_AT = " - at `"
_MISSING = re.compile(r"missing required field `([^`]+)`")


async def decode_strictly(request: Request[Any, Any, Any]) -> None:
    """``before_request`` hook: refuse a JSON body whose values are not of the declared types.
    Bodies that are not JSON at all are left to Litestar, which answers them as before."""
    data = request.route_handler.parsed_data_field
    if data is None or not request.content_type[0].endswith("json"):
        return
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


def _key(path: str, message: str) -> str:
    """The field a message is about: the path msgspec gives, with a missing field's name
    added (msgspec names the object that lacks it)."""
    if missing := _MISSING.search(message):
        return f"{path}.{missing[1]}" if path else missing[1]
    return path or "body"
