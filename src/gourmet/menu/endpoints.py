"""HTTP for the menu: one cached response with an ETag.

The menu is the most requested resource and its bytes are ready in the cache, so ``GET``
requests are answered by :class:`MenuFastPath`, a plain ASGI layer in front of Litestar that
skips routing and response building (it doubles menu throughput, see ``make bench``). The
Litestar handler documents the route in OpenAPI and serves what the fast path passes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from gourmet.asgi import ASGIApp, Receive, Scope, Send
from gourmet.menu.schemas import Menu
from gourmet.menu.service import CachedMenu, MenuCache
from gourmet.problems import ServiceUnavailable

MENU_PATH = "/api/menu"
MENU_RETRY_S = 2


@get(
    MENU_PATH,
    summary="The full menu",
    responses={200: ResponseSpec(data_container=Menu, description="The menu")},
)
async def get_menu(
    request: Request[Any, Any, Any], menu_cache: NamedDependency[MenuCache]
) -> Response[bytes]:
    cached = await menu_cache.read()
    if cached is None:
        raise ServiceUnavailable(
            "The menu is loading; please retry in a moment.", retry_after_s=MENU_RETRY_S
        )
    headers = {"ETag": cached.etag, "Cache-Control": "no-cache"}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and cached.etag in if_none_match:
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=cached.body, media_type="application/json", headers=headers)


class MenuFastPath:
    """Answer ``GET /api/menu`` from the cache before Litestar sees the request."""

    def __init__(self, app: ASGIApp, current: Callable[[], CachedMenu | None]) -> None:
        self.app = app
        # The cached menu, or None while there is none (not loaded yet, or caching is off).
        self._current = current

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != MENU_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        cached = self._current()
        if cached is None:  # let the handler answer (a problem, or a read without the cache)
            await self.app(scope, receive, send)
            return
        etag = cached.etag.encode()
        headers = [(b"etag", etag), (b"cache-control", b"no-cache")]
        if_none_match = next((v for k, v in scope["headers"] if k == b"if-none-match"), b"")
        if if_none_match and etag in if_none_match:
            status, body = 304, b""
        else:
            status, body = 200, cached.body
            headers.append((b"content-type", b"application/json"))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
