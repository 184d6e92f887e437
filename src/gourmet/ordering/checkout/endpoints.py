"""HTTP for customers' ordering: slots, checkout, order tracking, a customer's order history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent

from gourmet.accounts.endpoints import client_of
from gourmet.accounts.guards import Gate
from gourmet.accounts.limits import AccessLimits
from gourmet.accounts.schemas import AccountView
from gourmet.asgi import ASGIApp, Receive, Scope, Send
from gourmet.db.notifications import NotificationHub
from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.errors import PaymentNotPossible
from gourmet.ordering.money.service import PaymentService
from gourmet.ordering.schemas import CardPayment, CheckoutRequest, Fulfilment, OrderView, SlotList
from gourmet.ordering.tracking.events import order_stream
from gourmet.resilience.idempotency_key import check_idempotency_key

ORDER_PATH_PREFIX = "/api/orders/"


@get("/api/slots", summary="Time slots with their remaining capacity")
async def list_slots(
    ordering: NamedDependency[OrderingService],
    fulfilment: Annotated[Fulfilment, QueryParameter()] = "pickup",
) -> SlotList:
    slots = await ordering.slots(fulfilment)
    return SlotList(
        fulfilment=fulfilment,
        slots=slots,
        closed_today=ordering.closed_today(fulfilment),
        asap_minutes=ordering.asap_minutes(fulfilment),
        asap_quote=ordering.asap_quote(fulfilment),
    )


@post(
    "/api/orders",
    summary="Place an order (checkout)",
    description=(
        "Prices are computed on the server; any price in the request is ignored. Send an "
        "Idempotency-Key header to make retries safe: the same key and body return the same order."
    ),
)
async def place_order(
    request: Request[Any, Any, Any],
    ordering: NamedDependency[OrderingService],
    gate: NamedDependency[Gate],
    access_limits: NamedDependency[AccessLimits],
    data: JSONBody[CheckoutRequest],
    idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
) -> Response[OrderView]:
    check_idempotency_key(idempotency_key)
    # Signed in: the order is kept in the customer's history. A stale session is no reason to
    # refuse an order, nor is a post without the CSRF header (not from our pages): either is
    # placed as a guest's, never filed under an account by another site.
    account = await gate.session_account_writing(request)
    # Attempts per account, or per address for guests (429 over the limit, nothing placed).
    await access_limits.checkouts.hit(
        f"account:{account.id}" if account is not None else client_of(request, access_limits)
    )
    view, created = await ordering.checkout(
        data, idempotency_key, account.id if account is not None else None
    )
    return placed(view, created)


def placed(view: OrderView, created: bool) -> Response[OrderView]:
    """A checkout's answer: 201 for a new order, 200 for an idempotent replay."""
    return Response(
        view,
        status_code=201 if created else 200,
        headers={"Location": f"/api/orders/{view.token}"},
    )


@get("/api/orders/{token:str}", summary="Track an order by its tracking token")
async def get_order(ordering: NamedDependency[OrderingService], token: FromPath[str]) -> OrderView:
    return await ordering.order(token)


@get(
    "/api/orders/{token:str}/events",
    summary="Live order status (server-sent events; poll GET /api/orders/{token} as a fallback)",
)
async def order_events(
    ordering: NamedDependency[OrderingService],
    hub: NamedDependency[NotificationHub],
    token: FromPath[str],
) -> ServerSentEvent:
    await ordering.order(token)  # 404 before the stream starts, not inside it
    return ServerSentEvent(
        order_stream(hub, token, ordering.order), headers={"Cache-Control": "no-store"}
    )


def card_payments(payments: PaymentService | None) -> PaymentService:
    if payments is None:
        raise PaymentNotPossible("Card payments are not set up; choose pay at pickup.")
    return payments


@post(
    "/api/orders/{token:str}/payment",
    summary="Pay an order waiting for its card payment (again)",
    status_code=200,
)
async def pay_order(
    ordering: NamedDependency[OrderingService],
    payments: NamedDependency[PaymentService | None],
    token: FromPath[str],
    data: JSONBody[CardPayment],
) -> OrderView:
    await card_payments(payments).pay(token, data.card_token)
    return await ordering.order(token)


@post(
    "/api/orders/{token:str}/pay-at-pickup",
    summary="Pay at pickup instead of by card",
    status_code=200,
)
async def switch_to_pay_at_pickup(
    ordering: NamedDependency[OrderingService],
    payments: NamedDependency[PaymentService | None],
    token: FromPath[str],
) -> OrderView:
    await card_payments(payments).pay_at_pickup(token)
    return await ordering.order(token)


@get(
    "/api/me/orders",
    summary="The signed-in customer's orders, newest first",
    tags=["accounts"],
)
async def my_orders(
    request: Request[Any, Any, Any],
    ordering: NamedDependency[OrderingService],
    gate: NamedDependency[Gate],
) -> list[OrderView]:
    account = await gate.signed_in(request)
    return await ordering.account_orders(account.id)


class MyData(msgspec.Struct, frozen=True):
    """Everything Gourmet keeps of a customer: the account and its orders."""

    account: AccountView
    orders: list[OrderView]
    exported_at: datetime


@get(
    "/api/me/data",
    summary="Download everything kept of the signed-in customer: the account and its orders",
    tags=["accounts"],
)
async def my_data(
    request: Request[Any, Any, Any],
    ordering: NamedDependency[OrderingService],
    gate: NamedDependency[Gate],
) -> Response[MyData]:
    account = await gate.signed_in(request)
    orders = await ordering.account_orders(account.id)
    return Response(
        MyData(account, orders, datetime.now(UTC)),
        headers={
            "Content-Disposition": 'attachment; filename="gourmet-my-data.json"',
            "Cache-Control": "no-store",
        },
    )


ROUTES = [
    list_slots,
    place_order,
    get_order,
    order_events,
    pay_order,
    switch_to_pay_at_pickup,
    my_orders,
    my_data,
]


class OrderStatusFastPath:
    """Answer ``GET /api/orders/{token}`` for an order held current in memory before Litestar
    (and admission control) see the request: in a rush, tracking costs neither a database
    connection nor a slot that a checkout could use. Anything else, an order not held or one
    marked changed, goes on to the handler."""

    def __init__(self, app: ASGIApp, current_json: Callable[[str], bytes | None]) -> None:
        self.app = app
        self._current_json = current_json

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self._held(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _held(self, scope: Scope) -> bytes | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or not path.startswith(ORDER_PATH_PREFIX):
            return None
        token = path[len(ORDER_PATH_PREFIX) :]
        if not token or "/" in token:
            return None
        return self._current_json(token)
