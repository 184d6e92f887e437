"""HTTP for staff: open orders and status changes. Every route needs the staff credential."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent
from litestar.types import ControllerRouterHandler

from gourmet.accounts.errors import Forbidden
from gourmet.accounts.guards import Gate, require_staff
from gourmet.db.notifications import NotificationHub
from gourmet.kitchen.busy import BusyChange, BusyMode, BusyState
from gourmet.kitchen.orders import KitchenOrders
from gourmet.kitchen.past_orders import MAX_QUERY, OrderPage, PastOrders
from gourmet.kitchen.tickets import PrinterState
from gourmet.ordering.checkout.endpoints import placed
from gourmet.ordering.checkout.placed import Entry
from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.schemas import OrderStatus, OrderView, PhoneOrder, StatusUpdate
from gourmet.ordering.tracking.events import kitchen_stream
from gourmet.problems import Problem
from gourmet.resilience.idempotency_key import check_idempotency_key


@get("/orders", summary="Open orders, the soonest due first")
async def list_open_orders(kitchen_orders: NamedDependency[KitchenOrders]) -> list[OrderView]:
    return await kitchen_orders.open_orders()


@post("/orders/{order_id:int}/status", summary="Move an order to its next status", status_code=200)
async def change_order_status(
    request: Request[Any, Any, Any],
    kitchen_orders: NamedDependency[KitchenOrders],
    gate: NamedDependency[Gate],
    order_id: FromPath[int],
    data: JSONBody[StatusUpdate],
) -> OrderView:
    return await kitchen_orders.change_status(order_id, data, actor=await gate.actor(request))


class PhoneOrderByCard(Problem):
    status = 422
    slug = "phone-order-by-card"
    title = "Phone orders are paid at pickup"


@post(
    "/orders",
    summary="Enter an order taken by phone (paid at pickup; a manager may override)",
    status_code=201,
)
async def enter_phone_order(
    request: Request[Any, Any, Any],
    ordering: NamedDependency[OrderingService],
    gate: NamedDependency[Gate],
    data: JSONBody[PhoneOrder],
    idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
) -> Response[OrderView]:
    check_idempotency_key(idempotency_key)
    if data.payment != "pay_at_pickup":
        raise PhoneOrderByCard("An order taken by phone is paid at pickup (or to the driver).")
    if data.override and not await gate.has_role(request, "manager"):
        raise Forbidden("Only a manager can override a full slot or the pause.")
    entry = Entry(by=await gate.actor(request), override=data.override)
    view, created = await ordering.checkout(data, idempotency_key, entry=entry)
    return placed(view, created)


@get("/orders/search", summary="Past orders: by number, name, phone or email, days, status")
async def search_orders(
    past_orders: NamedDependency[PastOrders],
    text: Annotated[str, QueryParameter(name="q", max_length=MAX_QUERY)] = "",
    first: Annotated[date | None, QueryParameter(name="from")] = None,
    last: Annotated[date | None, QueryParameter(name="to")] = None,
    status: Annotated[OrderStatus | None, QueryParameter(name="status")] = None,
    before: Annotated[int | None, QueryParameter(name="before", ge=1)] = None,
) -> OrderPage:
    """Newest first, 50 a page; ``before`` (the page's ``next_before``) gives the next page."""
    if first is not None and last is not None and last < first:
        raise InvalidSearch("The search's end (to) is before its start (from).", field="to")
    return await past_orders.search(text, first, last, status, before)


@get("/orders/{order_id:int}", summary="Any order, with its lines, history, payment and refunds")
async def get_order(past_orders: NamedDependency[PastOrders], order_id: FromPath[int]) -> OrderView:
    return await past_orders.order(order_id)


class InvalidSearch(Problem):
    status = 422
    slug = "invalid-search"
    title = "Invalid search"

    def __init__(self, detail: str, *, field: str) -> None:
        super().__init__(detail, field=field)


@get("/busy", summary="Busy mode: the minutes added to the lead time now, and until when")
async def busy_state(busy: NamedDependency[BusyMode]) -> BusyState:
    return await busy.state()


@post(
    "/busy",
    summary="Set busy mode: add minutes of lead time for a while (0 ends it); delays open orders",
    status_code=200,
)
async def set_busy(
    request: Request[Any, Any, Any],
    busy: NamedDependency[BusyMode],
    gate: NamedDependency[Gate],
    data: JSONBody[BusyChange],
) -> BusyState:
    return await busy.change(data, actor=await gate.actor(request))


class PrintQueued(msgspec.Struct, frozen=True):
    stations: list[str]  # the printers the ticket goes to (none: no printer is set up)


@post(
    "/orders/{order_id:int}/print",
    summary="Print the order's ticket again at every station printer",
    status_code=202,
)
async def reprint_ticket(
    kitchen_orders: NamedDependency[KitchenOrders], order_id: FromPath[int]
) -> PrintQueued:
    return PrintQueued(await kitchen_orders.reprint(order_id))


@get("/printers", summary="The station printers: answering, or tickets waiting for them")
async def printers(kitchen_orders: NamedDependency[KitchenOrders]) -> list[PrinterState]:
    return await kitchen_orders.printer_states()


@get("/orders/events", summary="Open orders, live (server-sent events)")
async def open_order_events(
    kitchen_orders: NamedDependency[KitchenOrders], hub: NamedDependency[NotificationHub]
) -> ServerSentEvent:
    return ServerSentEvent(
        kitchen_stream(hub, kitchen_orders.kitchen_cards), headers={"Cache-Control": "no-store"}
    )


@post(
    "/api/orders/{token:str}/cancel",
    summary="The customer cancels their order while the kitchen has not taken it yet (a card"
    " payment is refunded); 409 once it has",
    status_code=200,
    tags=["orders"],
)
async def cancel_my_order(
    kitchen_orders: NamedDependency[KitchenOrders], token: FromPath[str]
) -> OrderView:
    return await kitchen_orders.cancel_for_customer(token)


router = Router(
    path="/api/staff",
    route_handlers=[
        list_open_orders,
        enter_phone_order,
        change_order_status,
        busy_state,
        set_busy,
        open_order_events,
        search_orders,
        get_order,
        reprint_ticket,
        printers,
    ],
    guards=[require_staff],
    tags=["staff"],
)

# The customer's own cancel sits beside the staff API: the tracking token is its credential.
ROUTES: list[ControllerRouterHandler] = [router, cancel_my_order]
