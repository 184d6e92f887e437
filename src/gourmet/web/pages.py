"""Customer pages: the menu, checkout and order tracking, rendered on the server.

Every page can be read without JavaScript: the menu comes from the in-process cache (no pool) and
the tracking page from one indexed read. The scripts under ``static/js`` add the cart (kept in the
browser), the item dialog, checkout through the JSON API and live tracking; they only ever talk to
the public API, so the pages need no endpoints of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Final

import msgspec
from litestar import MediaType, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Template
from litestar.types import ControllerRouterHandler
from markupsafe import Markup

from gourmet.config import Settings
from gourmet.menu.service import CachedMenu, MenuCache
from gourmet.ordering.schemas import Fulfilment, OrderStatus, OrderView
from gourmet.ordering.service import OrderingService
from gourmet.problems import NotFound, ServiceUnavailable
from gourmet.web.security import PAGE_HEADERS

# Tracking tokens are secrets: never cache the page anywhere but the customer's browser.
PRIVATE_HEADERS: Final = {**PAGE_HEADERS, "Cache-Control": "private, no-store"}
BUSY_RETRY_S: Final = 5
MENU_RETRY_S: Final = 2

# Test tokens of the sandbox card provider; a real provider's card form would supply a token.
SANDBOX_CARDS: Final = (
    ("tok_visa", "Visa ending 4242 (approved)"),
    ("tok_decline", "Card that is declined"),
)

STATUS_LABELS: Final[dict[OrderStatus, str]] = {
    "awaiting_payment": "Waiting for payment",
    "received": "Order received",
    "accepted": "Accepted by the kitchen",
    "preparing": "Being prepared",
    "ready": "Ready",
    "out_for_delivery": "On its way",
    "completed": "Picked up",
    "delivered": "Delivered",
    "rejected": "Declined by the restaurant",
    "cancelled": "Cancelled",
}
# The happy path of each fulfilment, drawn as the progress bar.
STEPS: Final[dict[Fulfilment, tuple[OrderStatus, ...]]] = {
    "pickup": ("received", "accepted", "preparing", "ready", "completed"),
    "delivery": ("received", "accepted", "preparing", "ready", "out_for_delivery", "delivered"),
}
# How the order is paid, by method and payment status, in a customer's words.
PAYMENT_TEXT: Final = {
    "pay_at_pickup/not_required": "Pay at pickup (or to the driver)",
    "card/pending": "Card, payment in progress",
    "card/paid": "Paid by card",
    "card/declined": "Card declined, waiting for payment",
    "card/failed": "Card payment failed, waiting for payment",
}


def payment_text(order: OrderView) -> str:
    key = f"{order.payment}/{order.payment_status}"
    return PAYMENT_TEXT.get(key, "Pay at pickup" if order.payment == "pay_at_pickup" else "Card")


def money(cents: int) -> str:
    """Integer cents as dollars: 1250 → "$12.50", -50 → "-$0.50"."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def signed_money(cents: int) -> str:
    """A price change: 300 → "+$3.00", -50 → "-$0.50"."""
    return f"+{money(cents)}" if cents > 0 else money(cents)


def clock_time(moment: datetime, tz: tzinfo) -> str:
    """ "6:45 PM" in the restaurant's time zone (static/js/format.js writes the same)."""
    local = moment.astimezone(tz)
    return f"{local.hour % 12 or 12}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"


def day_label(moment: datetime, tz: tzinfo) -> str:
    """ "Tue, Nov 24" in the restaurant's time zone (static/js/format.js writes the same)."""
    local = moment.astimezone(tz)
    return f"{local:%a, %b} {local.day}"


def json_for_html(data: bytes) -> Markup:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>`` and ``&`` escaped, so
    no string in it can close the element. (Those characters only occur inside JSON strings.)"""
    text = data.decode().replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - escaped above for this one context


def page_context(state: State, **context: Any) -> dict[str, Any]:
    """What every page's layout needs, plus the page's own values."""
    settings: Settings = state.settings
    return {
        "money": money,
        "signed_money": signed_money,
        "timezone": settings.timezone,
        # An operator's incident (state, expected resolution), or the automatic busy/down notice.
        "status_banner": state.status_board.banner() if "status_board" in state else None,
        **context,
    }


def page(
    template: str,
    state: State,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    """A page rendered for this request."""
    return Template(
        template_name=template,
        context=page_context(state, **context),
        status_code=status_code,
        headers=headers or PAGE_HEADERS,
    )


class RenderedPages:
    """Pages that depend only on the menu, rendered once per menu version.

    The menu page is the first thing every customer loads, so in a rush it must cost about what
    the cached ``/api/menu`` costs: rendering 40 items with Jinja takes a millisecond, sending
    ready bytes almost nothing. One entry per template, replaced when its key (menu ETag and
    banner) changes, so memory stays bounded.
    """

    def __init__(self) -> None:
        self._pages: dict[str, tuple[Hashable, bytes]] = {}

    def get(self, template: str, key: Hashable, render: Callable[[], str]) -> bytes:
        entry = self._pages.get(template)
        if entry is not None and entry[0] == key:
            return entry[1]
        body = render().encode()
        self._pages[template] = (key, body)
        return body


def menu_bound_page(
    request: Request[Any, Any, Any], state: State, template: str, cached: CachedMenu, **extra: Any
) -> Response[bytes]:
    """``template`` from the per-menu-version cache (rendered now if the menu changed)."""
    rendered: RenderedPages | None = state.get("rendered_pages")
    if rendered is None:  # made on first use, by the process that serves it
        rendered = state.rendered_pages = RenderedPages()
    context = page_context(state, **extra)
    engine = request.app.template_engine
    assert engine is not None

    def render() -> str:
        menu_json = json_for_html(cached.body)
        html: str = engine.get_template(template).render(
            **context, menu=cached.menu, menu_json=menu_json
        )
        return html

    body = rendered.get(template, (cached.etag, context["status_banner"]), render)
    return Response(body, media_type=MediaType.HTML, headers=PAGE_HEADERS)


def busy_page(state: State, problem: ServiceUnavailable) -> Template:
    retry_after = int(problem.headers.get("Retry-After", BUSY_RETRY_S))
    return page(
        "errors/busy.html",
        state,
        status_code=503,
        headers={**PAGE_HEADERS, "Retry-After": str(retry_after)},
        detail=problem.detail,
        retry_after_s=max(retry_after, 1),
    )


def menu_loading_page(state: State) -> Template:
    """Before the first menu load (a cold start with the database away): retry shortly."""
    return page(
        "menu/loading.html",
        state,
        status_code=503,
        headers={**PAGE_HEADERS, "Retry-After": str(MENU_RETRY_S)},
        retry_after_s=MENU_RETRY_S,
    )


async def current_menu(state: State) -> CachedMenu | None:
    cache: MenuCache = state.menu_cache
    if cache.cached:
        return cache.current
    return await cache.fetch_uncached()  # the incident profile reads the database every time


async def menu_page_or_fallback(
    request: Request[Any, Any, Any], state: State, template: str, **extra: Any
) -> Response[bytes] | Template:
    """A page built on the menu, or the busy page (database down) or the loading page (no
    menu yet) in its place."""
    try:
        cached = await current_menu(state)
    except ServiceUnavailable as problem:
        return busy_page(state, problem)
    if cached is None:
        return menu_loading_page(state)
    return menu_bound_page(request, state, template, cached, **extra)


@get("/", name="menu-page", include_in_schema=False)
async def menu_page(request: Request[Any, Any, Any], state: State) -> Response[bytes] | Template:
    return await menu_page_or_fallback(request, state, "menu/index.html")


@get("/checkout", name="checkout-page", include_in_schema=False)
async def checkout_page(
    request: Request[Any, Any, Any], state: State
) -> Response[bytes] | Template:
    return await menu_page_or_fallback(
        request,
        state,
        "ordering/checkout.html",
        card_payments=state.payments is not None,
        sandbox_cards=SANDBOX_CARDS,
    )


@dataclass(frozen=True)
class Step:
    status: OrderStatus
    label: str
    state: str  # "done", "current" or "todo"


def progress(order: OrderView) -> list[Step]:
    steps = STEPS[order.fulfilment]
    reached = steps.index(order.status) if order.status in steps else -1
    return [
        Step(
            status,
            STATUS_LABELS[status],
            "done" if i < reached else "current" if i == reached else "todo",
        )
        for i, status in enumerate(steps)
    ]


@get("/orders/{token:str}", name="tracking-page", include_in_schema=False)
async def tracking_page(state: State, token: FromPath[str]) -> Template:
    service: OrderingService = state.ordering
    settings: Settings = state.settings
    try:
        order = await service.order(token)
    except NotFound:
        return page("errors/order_not_found.html", state, status_code=404)
    except ServiceUnavailable as problem:
        return busy_page(state, problem)
    tz = settings.tz
    return page(
        "ordering/tracking.html",
        state,
        headers=PRIVATE_HEADERS,
        order=order,
        steps=progress(order),
        status_label=STATUS_LABELS[order.status],
        status_labels=STATUS_LABELS,
        ready_time=clock_time(order.estimated_ready_at, tz),
        ready_day=day_label(order.estimated_ready_at, tz),
        history=[
            (change, clock_time(change.at, tz), day_label(change.at, tz))
            for change in order.history
        ],
        payment_text=payment_text(order),
        labels_json=json_for_html(
            msgspec.json.encode(
                {
                    "status": STATUS_LABELS,
                    "steps": STEPS,
                    "payment": PAYMENT_TEXT,
                }
            )
        ),
        card_payments=state.payments is not None,
        sandbox_cards=SANDBOX_CARDS,
    )


ROUTES: list[ControllerRouterHandler] = [menu_page, checkout_page, tracking_page]
