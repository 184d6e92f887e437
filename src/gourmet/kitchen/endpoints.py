"""HTTP for staff: open orders and status changes. Every route needs the staff credential."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.response import ServerSentEvent

from gourmet.accounts.guards import Gate, require_staff
from gourmet.db.notifications import NotificationHub
from gourmet.ordering.events import kitchen_stream
from gourmet.ordering.schemas import OrderView, StatusUpdate
from gourmet.ordering.service import OrderingService


@get("/orders", summary="Open orders, oldest first")
async def list_open_orders(ordering: NamedDependency[OrderingService]) -> list[OrderView]:
    return await ordering.open_orders()


@post("/orders/{order_id:int}/status", summary="Move an order to its next status", status_code=200)
async def change_order_status(
    request: Request[Any, Any, Any],
    ordering: NamedDependency[OrderingService],
    gate: NamedDependency[Gate],
    order_id: FromPath[int],
    data: JSONBody[StatusUpdate],
) -> OrderView:
    return await ordering.change_status(order_id, data, actor=await gate.actor(request))


@get("/orders/events", summary="Open orders, live (server-sent events)")
async def open_order_events(
    ordering: NamedDependency[OrderingService], hub: NamedDependency[NotificationHub]
) -> ServerSentEvent:
    return ServerSentEvent(
        kitchen_stream(hub, ordering.kitchen_cards), headers={"Cache-Control": "no-store"}
    )


router = Router(
    path="/api/staff",
    route_handlers=[list_open_orders, change_order_status, open_order_events],
    guards=[require_staff],
    tags=["staff"],
)
