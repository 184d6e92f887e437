"""The menu and checkout pages: built on the cached menu, so they cost no database work."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.response import Template

from gourmet.menu.service import MenuCache
from gourmet.ordering.money.service import PaymentService
from gourmet.web.rendering import Pages

TIP_PERCENTS: Final = (10, 15, 20)  # the checkout page's choices; any amount is also offered
# Test tokens of the sandbox card provider; a real provider's card form would supply a token.
SANDBOX_CARDS: Final = (
    ("tok_visa", "Visa ending 4242 (approved)"),
    ("tok_decline", "Card that is declined"),
)


@get("/", name="menu-page", include_in_schema=False)
async def menu_page(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    menu_cache: NamedDependency[MenuCache],
) -> Response[bytes] | Template:
    return await pages.menu_bound_or_fallback(request, menu_cache, "customer/menu/index.html")


@get("/checkout", name="checkout-page", include_in_schema=False)
async def checkout_page(
    request: Request[Any, Any, Any],
    pages: NamedDependency[Pages],
    menu_cache: NamedDependency[MenuCache],
    payments: NamedDependency[PaymentService | None],
) -> Response[bytes] | Template:
    return await pages.menu_bound_or_fallback(
        request,
        menu_cache,
        "customer/ordering/checkout.html",
        card_payments=payments is not None,
        card_in_browser=payments is not None and payments.confirms_in_browser,
        sandbox_cards=SANDBOX_CARDS,
        tip_percents=TIP_PERCENTS,
    )


ROUTES = [menu_page, checkout_page]
