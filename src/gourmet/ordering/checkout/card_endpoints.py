"""HTTP for card payments confirmed in the browser (Stripe): the order's payment intent, and the
webhook through which Stripe says how a payment ended."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter

from gourmet.ordering.checkout.service import OrderingService
from gourmet.ordering.errors import PaymentNotPossible
from gourmet.ordering.money.intents import CardIntents, IntentView

WEBHOOK_PATH = "/api/payments/stripe/webhook"
# Stripe's events are a few kilobytes; a body larger than this is not one.
WEBHOOK_MAX_BYTES = 256 * 1024


class WebhookAnswer(msgspec.Struct):
    received: bool
    # False: this event was handled before (Stripe delivers at least once).
    first_delivery: bool


def required(intents: CardIntents | None) -> CardIntents:
    if intents is None:
        raise PaymentNotPossible(
            "Card payments here take a card_token with the order (POST /api/orders/{token}/"
            "payment); no payment is confirmed in the browser."
        )
    return intents


@post(
    "/api/orders/{token:str}/payment-intent",
    summary="The order's card payment, for the browser to confirm with Stripe",
    description=(
        "Made once per payment attempt (the same intent however often this is called). Confirm "
        "it with Stripe.js (`stripe.confirmPayment` with its `client_secret`); the order goes "
        "to the kitchen when Stripe says the payment succeeded."
    ),
    status_code=200,
)
async def start_payment(
    ordering: NamedDependency[OrderingService],
    card_intents: NamedDependency[CardIntents | None],
    token: FromPath[str],
) -> IntentView:
    if card_intents is None:
        await ordering.order(token)  # the token is the credential: 404 before anything else
    return await required(card_intents).start(token)


@post(
    WEBHOOK_PATH,
    summary="Stripe's webhook: how a card payment ended (signed with the endpoint's secret)",
    status_code=200,
    request_max_body_size=WEBHOOK_MAX_BYTES,
)
async def stripe_webhook(
    request: Request[Any, Any, Any],
    card_intents: NamedDependency[CardIntents | None],
    signature: Annotated[str | None, HeaderParameter(name="Stripe-Signature")] = None,
) -> WebhookAnswer:
    first = await required(card_intents).on_event(await request.body(), signature)
    return WebhookAnswer(received=True, first_delivery=first)


ROUTES = [start_payment, stripe_webhook]
