"""The manager's console page (a staff session, or the staff token from /ops/login).

The page is a shell: manage.js loads and changes everything through ``/api/manage``.
"""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, get
from litestar.response import Redirect, Template

from gourmet.accounts.guards import has_role
from gourmet.web.security import PAGE_HEADERS

# The strict CSP of every page, and never kept by a shared cache.
HEADERS: Final = {**PAGE_HEADERS, "Cache-Control": "private, no-store"}


@get("/manage", include_in_schema=False)
async def manage_page(request: Request[Any, Any, Any]) -> Template | Redirect:
    if not await has_role(request, "manager"):
        return Redirect("/ops/login?next=/manage", status_code=303)
    return Template(template_name="manage.html", headers=HEADERS)


ROUTES = [manage_page]
