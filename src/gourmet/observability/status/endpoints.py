"""HTTP for the status page's data: the public feed, and operators' incident posts."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import Gate, require_staff
from gourmet.observability.status.schemas import IncidentPost, PublicStatusFeed, StatusFeed
from gourmet.observability.status.service import StatusBoard
from gourmet.problems import Problem


@get("/api/status", summary="Status of ordering, tracking and payments, with incidents")
async def status_feed(status_board: NamedDependency[StatusBoard]) -> PublicStatusFeed:
    return status_board.public_feed()


@post("/incidents", summary="Post a new incident", status_code=201)
async def create_incident(
    request: Request[Any, Any, Any],
    status_board: NamedDependency[StatusBoard],
    gate: NamedDependency[Gate],
    data: JSONBody[IncidentPost],
) -> StatusFeed:
    if not data.title:
        raise Problem("A new incident needs a title.", field="title")
    await status_board.post(data, author=await _author(request, gate))
    return status_board.feed()


@post("/incidents/{incident_id:int}", summary="Update an incident", status_code=200)
async def update_incident(
    request: Request[Any, Any, Any],
    status_board: NamedDependency[StatusBoard],
    gate: NamedDependency[Gate],
    incident_id: FromPath[int],
    data: JSONBody[IncidentPost],
) -> StatusFeed:
    await status_board.post(data, author=await _author(request, gate), incident_id=incident_id)
    return status_board.feed()


async def _author(request: Request[Any, Any, Any], gate: Gate) -> str:
    """The credentials' actor. The shared staff token names nobody, so an operator using it
    may say who they are (X-Operator), shown as said, never as an account."""
    actor = await gate.actor(request)
    said = request.headers.get("x-operator", "").strip()
    if actor == "staff token" and said:
        return f"staff token, signed {said[:60]!r}"
    return actor


ops_router = Router(
    path="/api/ops",
    route_handlers=[create_incident, update_incident],
    guards=[require_staff],
    tags=["operations"],
)
ROUTES: list[ControllerRouterHandler] = [status_feed, ops_router]
