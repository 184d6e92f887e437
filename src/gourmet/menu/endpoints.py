"""HTTP for the menu: one cached response with an ETag."""

from __future__ import annotations

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.openapi import ResponseSpec

from gourmet.menu.schemas import Menu
from gourmet.menu.service import MenuCache
from gourmet.problems import ServiceUnavailable


@get(
    "/api/menu",
    summary="The full menu",
    responses={200: ResponseSpec(data_container=Menu, description="The menu")},
    sync_to_thread=False,
)
def get_menu(request: Request, state: State) -> Response[bytes]:  # type: ignore[type-arg]
    cache: MenuCache = state.menu_cache
    cached = cache.current
    if cached is None:
        raise ServiceUnavailable("The menu is loading; please retry in a moment.", retry_after_s=2)
    headers = {"ETag": cached.etag, "Cache-Control": "no-cache"}
    if cached.etag in request.headers.get("if-none-match", ""):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=cached.body, media_type="application/json", headers=headers)
