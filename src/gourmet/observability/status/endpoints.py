"""HTTP for the status page: the public feed and page, and operators' incident posts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody
from litestar.response import Template
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import require_staff
from gourmet.observability.status.schemas import IncidentPost, StatusFeed
from gourmet.observability.status.service import StatusBoard
from gourmet.problems import Problem
from gourmet.web.security import PAGE_HEADERS


def board(state: State) -> StatusBoard:
    status_board: StatusBoard = state.status_board
    return status_board


@get("/api/status", summary="Status of ordering, tracking and payments, with incidents")
async def status_feed(state: State) -> StatusFeed:
    return board(state).feed()


@get("/status", summary="The public status page", include_in_schema=False)
async def status_page(state: State) -> Template:
    return Template(
        template_name="status.html", context={"feed": board(state).feed()}, headers=PAGE_HEADERS
    )


@post("/incidents", summary="Post a new incident", status_code=201)
async def create_incident(
    request: Request[Any, Any, Any], state: State, data: JSONBody[IncidentPost]
) -> StatusFeed:
    if not data.title:
        raise Problem("A new incident needs a title.", field="title")
    await board(state).post(data, author=_author(request))
    return board(state).feed()


@post("/incidents/{incident_id:int}", summary="Update an incident", status_code=200)
async def update_incident(
    request: Request[Any, Any, Any],
    state: State,
    incident_id: FromPath[int],
    data: JSONBody[IncidentPost],
) -> StatusFeed:
    await board(state).post(data, author=_author(request), incident_id=incident_id)
    return board(state).feed()


def _author(request: Request[Any, Any, Any]) -> str:
    return request.headers.get("x-operator", "operator")[:80]


ops_router = Router(
    path="/api/ops",
    route_handlers=[create_incident, update_incident],
    guards=[require_staff],
    tags=["operations"],
)
ROUTES: list[ControllerRouterHandler] = [status_feed, status_page, ops_router]
