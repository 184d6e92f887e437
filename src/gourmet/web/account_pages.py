"""The customer's account pages: sign in, sign up, and the account with its order history.

Signing in, up and out happen in the browser (``static/js/account.js``) through the accounts API;
the account page itself is rendered here from the session cookie and the accounts service, so it
reads the same orders as ``GET /api/me/orders`` without an HTTP round trip.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get
from litestar.datastructures import State
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import session_account
from gourmet.accounts.service import AccountService
from gourmet.config import Settings
from gourmet.ordering.schemas import OrderView
from gourmet.problems import ServiceUnavailable
from gourmet.web.pages import (
    PRIVATE_HEADERS,
    STATUS_LABELS,
    busy_page,
    clock_time,
    day_label,
    json_for_html,
    page,
)
from gourmet.web.security import local_path as safe_local_path

ACCOUNT_PATH: Final = "/account"


def local_path(target: str | None) -> str:
    """``target`` when it is a path on this site, else the account page."""
    return safe_local_path(target, ACCOUNT_PATH)


def reorder_lines(order: OrderView) -> list[dict[str, Any]]:
    """The order's lines in the browser cart's shape (see static/js/cart.js)."""
    return [
        {
            "itemId": line.item_id,
            "quantity": line.quantity,
            "optionIds": [option.option_id for option in line.options],
            "notes": line.notes,
            "name": line.name,
            "unitCents": line.unit_price_cents,
            "optionNames": [option.name for option in line.options],
        }
        for line in order.lines
    ]


@get("/account/signin", name="signin-page", include_in_schema=False)
async def signin_page(
    state: State, next_path: Annotated[str | None, QueryParameter(name="next")] = None
) -> Template:
    return page(
        "account/signin.html", state, headers=PRIVATE_HEADERS, next_path=local_path(next_path)
    )


@get("/account/signup", name="signup-page", include_in_schema=False)
async def signup_page(
    state: State, next_path: Annotated[str | None, QueryParameter(name="next")] = None
) -> Template:
    return page(
        "account/signup.html", state, headers=PRIVATE_HEADERS, next_path=local_path(next_path)
    )


@get(ACCOUNT_PATH, name="account-page", include_in_schema=False)
async def account_page(request: Request[Any, Any, Any], state: State) -> Template | Redirect:
    try:
        account = await session_account(request)
        if account is None:
            return Redirect(f"/account/signin?next={ACCOUNT_PATH}", status_code=303)
        service: AccountService = state.accounts
        orders = await service.orders(account.id)
    except ServiceUnavailable as problem:
        return busy_page(state, problem)
    settings: Settings = state.settings
    tz = settings.tz
    return page(
        "account/index.html",
        state,
        headers=PRIVATE_HEADERS,
        account=account,
        orders=[
            {
                "order": order,
                "status_label": STATUS_LABELS[order.status],
                "placed": f"{day_label(order.created_at, tz)}, {clock_time(order.created_at, tz)}",
                "item_count": sum(line.quantity for line in order.lines),
            }
            for order in orders
        ],
        reorder_json=json_for_html(
            msgspec.json.encode({str(order.number): reorder_lines(order) for order in orders})
        ),
    )


ROUTES: list[ControllerRouterHandler] = [signin_page, signup_page, account_page]
