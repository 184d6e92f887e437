"""The customer's account pages: sign in, sign up, and the account with its order history.

Signing in, up and out happen in the browser (``static/js/account.js``) through the accounts API;
the account page itself is rendered here from the session cookie and the accounts service, so it
reads the same orders as ``GET /api/me/orders`` (the ordering service) without an HTTP round
trip.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import Gate
from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.schemas import OrderView
from gourmet.problems import ServiceUnavailable
from gourmet.web.order_pages import STATUS_LABELS
from gourmet.web.rendering import Pages, clock_time, day_label, json_for_html
from gourmet.web.security import PRIVATE_HEADERS
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
    pages: NamedDependency[Pages],
    next_path: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Template:
    return pages.page(
        "customer/account/signin.html", headers=PRIVATE_HEADERS, next_path=local_path(next_path)
    )


@get("/account/signup", name="signup-page", include_in_schema=False)
async def signup_page(
    pages: NamedDependency[Pages],
    next_path: Annotated[str | None, QueryParameter(name="next")] = None,
) -> Template:
    return pages.page(
        "customer/account/signup.html", headers=PRIVATE_HEADERS, next_path=local_path(next_path)
    )


@get(ACCOUNT_PATH, name="account-page", include_in_schema=False)
async def account_page(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    gate: NamedDependency[Gate],
    ordering: NamedDependency[OrderingService],
) -> Template | Redirect:
    try:
        account = await gate.session_account(request)
        if account is None:
            return Redirect(f"/account/signin?next={ACCOUNT_PATH}", status_code=303)
        orders = await ordering.account_orders(account.id)
    except ServiceUnavailable as problem:
        return pages.busy(problem)
    tz = pages.tz
    return pages.page(
        "customer/account/index.html",
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


@get("/account/forgot", name="forgot-page", include_in_schema=False)
async def forgot_page(pages: NamedDependency[Pages]) -> Template:
    return pages.page("customer/account/forgot.html", headers=PRIVATE_HEADERS)


@get("/account/reset", name="reset-page", include_in_schema=False)
async def reset_page(pages: NamedDependency[Pages]) -> Template:
    """The link's token is in the fragment: the page reads it, the server never sees it here."""
    return pages.page("customer/account/reset.html", headers=PRIVATE_HEADERS)


ROUTES: list[ControllerRouterHandler] = [
    signin_page,
    signup_page,
    forgot_page,
    reset_page,
    account_page,
]
