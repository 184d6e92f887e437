"""The kitchen board page: live cards of open orders (staff sign in at /ops/login)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Redirect, Template

from gourmet.accounts.guards import has_role
from gourmet.web.security import PAGE_HEADERS


@get("/kitchen", include_in_schema=False)
async def kitchen_board(request: Request[Any, Any, Any]) -> Template | Redirect:
    if not await has_role(request, "staff"):
        return Redirect("/ops/login?next=/kitchen", status_code=303)
    return Template(template_name="kitchen.html", headers=PAGE_HEADERS)


ROUTES = [kitchen_board]
