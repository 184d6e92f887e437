"""The order tracking page: one indexed read, then live updates from the page's script."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec
from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.money.service import PaymentService
from gourmet.ordering.schemas import Fulfilment, OrderStatus, OrderView
from gourmet.problems import NotFound, ServiceUnavailable
from gourmet.web.menu_pages import SANDBOX_CARDS
from gourmet.web.rendering import Pages, clock_time, day_label, json_for_html
from gourmet.web.security import PRIVATE_HEADERS, with_card_provider

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
    "card/refund_pending": "Paid by card, a refund to your card is on its way",
    "card/refunded": "Refunded to your card",
}


def payment_text(order: OrderView) -> str:
    key = f"{order.payment}/{order.payment_status}"
    return PAYMENT_TEXT.get(key, "Pay at pickup" if order.payment == "pay_at_pickup" else "Card")


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
async def tracking_page(
    pages: NamedDependency[Pages],
    ordering: NamedDependency[OrderingService],
    payments: NamedDependency[PaymentService | None],
    token: FromPath[str],
) -> Template:
    try:
        order = await ordering.order(token)
    except NotFound:
        return pages.page("customer/errors/order_not_found.html", status_code=404)
    except ServiceUnavailable as problem:
        return pages.busy(problem)
    tz = pages.tz
    card = pages.settings.payments
    stripe = payments is not None and payments.confirms_in_browser
    return pages.page(
        "customer/ordering/tracking.html",
        headers=with_card_provider(PRIVATE_HEADERS, card.stripe_js_url, card.stripe_api_url)
        if stripe and order.status == "awaiting_payment"
        else PRIVATE_HEADERS,
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
            msgspec.json.encode({"status": STATUS_LABELS, "steps": STEPS, "payment": PAYMENT_TEXT})
        ),
        card_payments=payments is not None,
        sandbox_cards=SANDBOX_CARDS,
        stripe_js=card.stripe_js_url if stripe else None,
    )


ROUTES = [tracking_page]
