"""The public status page: what works, what does not, and the operators' incidents."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from gourmet.observability.status.service import StatusBoard
from gourmet.web.security import PAGE_HEADERS


@get("/status", summary="The public status page", include_in_schema=False)
async def status_page(status_board: NamedDependency[StatusBoard]) -> Template:
    return Template(
        template_name="customer/status.html",
        context={"feed": status_board.public_feed(), "tz": status_board.tz},
        headers=PAGE_HEADERS,
    )


ROUTES = [status_page]
