"""The kitchen board page: live cards of open orders (staff sign in at /ops/login)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.datastructures import State
from litestar.response import Redirect, Template

from gourmet.accounts.guards import STAFF_COOKIE, token_matches
from gourmet.web.security import PAGE_HEADERS


@get("/kitchen", include_in_schema=False)
async def kitchen_board(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    cookie = request.cookies.get(STAFF_COOKIE)
    if cookie is None or not token_matches(cookie, state.staff_token):
        return Redirect("/ops/login?next=/kitchen", status_code=303)
    return Template(template_name="kitchen.html", headers=PAGE_HEADERS)


ROUTES = [kitchen_board]
