"""HTTP for a manager's refunds: ``POST /api/manage/orders/{number}/refunds`` gives back a whole
order, chosen lines or an amount, with a reason; ``GET`` lists an order's refunds and what is
left to give back. Send an ``Idempotency-Key``: the same request sent again (a double click, a
retry after a lost answer) returns the first refund instead of making a second."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody

from gourmet.accounts.guards import Gate, require_role
from gourmet.ordering.money.by_hand import HandRefunds
from gourmet.ordering.money.schemas import OrderRefunds, RefundRequest, RefundView
from gourmet.resilience.idempotency_key import check_idempotency_key


@get("/{number:int}/refunds", summary="An order's refunds, and what is left to give back")
async def list_refunds(
    refunds: NamedDependency[HandRefunds], number: FromPath[int]
) -> OrderRefunds:
    return await refunds.refunds(number)


@post(
    "/{number:int}/refunds",
    summary="Refund a whole order, chosen lines or an amount, with a reason (card orders"
    " through the provider, pay-at-pickup orders in cash); 201 when made, 200 for a request"
    " sent again with its Idempotency-Key",
    status_code=201,
)
async def refund_order(
    request: Request[Any, Any, Any],
    refunds: NamedDependency[HandRefunds],
    gate: NamedDependency[Gate],
    number: FromPath[int],
    data: JSONBody[RefundRequest],
    idempotency_key: Annotated[str | None, HeaderParameter(name="Idempotency-Key")] = None,
) -> Response[RefundView]:
    check_idempotency_key(idempotency_key)
    key = idempotency_key or f"refund-{secrets.token_urlsafe(18)}"  # no key: a new refund
    view, new = await refunds.refund(number, data, actor=await gate.actor(request), key=key)
    return Response(view, status_code=201 if new else 200)


router = Router(
    path="/api/manage/orders",
    route_handlers=[list_refunds, refund_order],
    guards=[require_role("manager")],
    tags=["manage"],
)
