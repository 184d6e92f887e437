"""Card payments confirmed in the customer's browser (Stripe's Payment Element).

The order is placed unpaid (``awaiting_payment``, its slot and stock reserved), as for any card
order. :meth:`CardIntents.start` then makes the attempt's payment at the provider, once per
attempt key, with no database connection held, and records its id on the order; the browser
confirms it with the provider's own script (3-D Secure happens there). Stripe tells us how it
ended by a signed webhook (:meth:`CardIntents.on_event`): each event is handled once, in the
same transaction as the order's change, so a duplicate or a late delivery changes nothing, and
a payment that succeeds for an order that stopped waiting (it expired, was cancelled, or its
customer chose to pay at pickup) goes back by itself.
"""

from __future__ import annotations

import collections
import time

import msgspec
import structlog

from gourmet.db.pool import GuardedPool
from gourmet.ordering.errors import BadSignature, PaymentNotPossible
from gourmet.ordering.money import repository as repo
from gourmet.ordering.money.service import PaymentService, order_description, provider_problem
from gourmet.ordering.money.settle import attempt_key
from gourmet.payments.provider import (
    BadEventSignature,
    BrowserConfirmedProvider,
    Intent,
    PaymentRequestRejected,
    ProviderUnavailable,
)
from gourmet.resilience import deadline

SEEN_FOR_S = 5.0
SEEN_MAX = 10_000
log = structlog.get_logger(__name__)


class IntentView(msgspec.Struct, kw_only=True):
    """What the checkout page needs to confirm an order's card payment in the browser."""

    intent: str
    client_secret: str
    publishable_key: str
    amount_cents: int
    currency: str
    status: str


class CardIntents:
    def __init__(
        self,
        pool: GuardedPool,
        payments: PaymentService,
        provider: BrowserConfirmedProvider,
        *,
        currency: str,
    ) -> None:
        self._pool = pool
        self._payments = payments
        self._provider = provider
        self._currency = currency
        # Intents read lately, by id: a page asking again and again (or a script holding the
        # order's token) costs the provider one read per SEEN_FOR_S, and its rate limit, which
        # the circuit breaker would count against every customer, is never reached this way.
        self._seen: collections.OrderedDict[str, tuple[float, Intent]] = collections.OrderedDict()

    async def aclose(self) -> None:
        await self._provider.aclose()

    async def start(self, token: str) -> IntentView:
        """The order's payment for the browser to confirm: made once, then the same one."""
        async with self._pool.connection() as conn:
            order = self._payments.payable(token, await repo.lock_for_payment(conn, token))
        try:
            # No connection is held here: the provider may take seconds.
            if order["payment_intent"]:
                intent = await self._read(order["payment_intent"])
            else:
                intent = await self._provider.start_intent(
                    idempotency_key=attempt_key(token, order["payment_attempt"]),
                    order_token=token,
                    amount_cents=order["total_cents"],
                    currency=self._currency,
                    description=order_description(order["id"]),
                )
        except (ProviderUnavailable, PaymentRequestRejected) as exc:
            raise provider_problem(token, exc) from exc
        with deadline.unbounded():
            if intent.succeeded:  # the webhook has not come yet: Stripe's word is enough
                await self._payments.record_paid(token, intent.id)
            elif not order["payment_intent"]:
                await self._record_intent(token, intent)
        return IntentView(
            intent=intent.id,
            client_secret=intent.client_secret,
            publishable_key=self._provider.publishable_key,
            amount_cents=intent.amount_cents,
            currency=self._currency,
            status=intent.status,
        )

    async def _read(self, intent_id: str) -> Intent:
        now = time.monotonic()
        seen = self._seen.get(intent_id)
        if seen is not None and now - seen[0] < SEEN_FOR_S:
            return seen[1]
        intent = await self._provider.intent(intent_id)
        self._seen[intent_id] = (now, intent)
        self._seen.move_to_end(intent_id)
        while len(self._seen) > SEEN_MAX:
            self._seen.popitem(last=False)
        return intent

    async def _record_intent(self, token: str, intent: Intent) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            order = await repo.lock_for_payment(conn, token)
            if order is None or order["status"] != "awaiting_payment":
                # It ended while the intent was made: nobody holds its secret, nothing can be
                # charged under it.
                raise PaymentNotPossible("This order is not waiting for a payment.")
            await repo.record_intent(conn, order["id"], intent.id)

    async def on_event(self, payload: bytes, signature: str | None) -> bool:
        """A webhook delivery: checked, then handled once. False for one handled before."""
        try:
            event = self._provider.event(payload, signature)
        except BadEventSignature as exc:
            raise BadSignature(
                "The Stripe-Signature header does not match this body, or is too old."
            ) from exc
        token = event.order_token
        with deadline.unbounded():  # the provider has sent it: record it, whatever the time
            async with self._pool.connection() as conn, conn.transaction():
                if not await repo.first_delivery(conn, event.id, event.type):
                    return False  # delivered again: handled already
                version = None
                if event.succeeded and token:
                    version = await self._payments.record_paid_in(conn, token, event.intent_id)
        if token:
            self._payments.announce(token, version)
        # A failed payment changes nothing here: the customer's browser heard of it from
        # Stripe, and the same intent can be confirmed again with another card.
        log.info("payment_event", event_id=event.id, type=event.type, intent=event.intent_id)
        return True
