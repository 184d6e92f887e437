"""Card payment of an order, with no database connection held while the provider works.

The order is stored first (``awaiting_payment``, its slot and stock reserved) and committed; the
provider is called with no connection in hand, under a timeout and a circuit breaker; the
outcome is then recorded in a second short transaction. A provider that takes 5 s therefore costs
the pool nothing. Each attempt carries the key ``<token>-<attempt>``: a retry after a timeout
reuses it, so the provider charges at most once, and only a final decline moves to a new attempt.

Every approved charge an order does not use goes back by itself: one that lands after the order
stopped waiting for it (:func:`gourmet.ordering.money.owed.give_back`), and one whose answer never
reached us (switching to pay at pickup first settles the attempt out at the provider, and
whatever cannot be settled at once is settled later: :mod:`gourmet.ordering.money.settle`).
"""

from __future__ import annotations

from typing import Any

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.ordering import repository as order_repo
from gourmet.ordering.errors import (
    CardConfirmedInBrowser,
    PaymentDeclined,
    PaymentNotPossible,
    PaymentsUnavailable,
    no_such_order,
)
from gourmet.ordering.money import repository as repo
from gourmet.ordering.money.owed import give_back
from gourmet.ordering.money.settle import OUTSTANDING, attempt_key, settle_later
from gourmet.ordering.notifications.notices import Notices
from gourmet.ordering.tracking.book import OrderBook
from gourmet.payments.provider import (
    PaymentError,
    PaymentProvider,
    PaymentRequestRejected,
    ProviderUnavailable,
)
from gourmet.resilience import deadline

CHOICES_AFTER_FAILURE = ["retry", "pay_at_pickup"]
# With a provider whose card form runs in the browser, no card comes with a request: a charge
# made from a card_token would be an attempt the order never records (nothing to settle).
IN_BROWSER = (
    "Cards are confirmed in the browser here: place the order by card without a card_token,"
    " then POST /api/orders/{token}/payment-intent and confirm it with Stripe.js."
)
CHOICES_AFTER_DECLINE = ["another_card", "pay_at_pickup"]


def order_description(order_id: int) -> str:
    """What the customer's card statement and the provider's dashboard show for an order."""
    return f"Gourmet Delights order {order_id}"


def provider_problem(token: str, failure: PaymentError) -> PaymentsUnavailable | PaymentNotPossible:
    """What the customer hears when the provider could not take the payment: retry later (it
    is down), or pay at pickup (it refused our request)."""
    if isinstance(failure, ProviderUnavailable):
        return PaymentsUnavailable(
            "Card payments are not working right now. Your order is saved: retry in a "
            "moment, or choose to pay at pickup.",
            retry_after_s=int(failure.retry_after_s or 5),
            order_token=token,
            choices=CHOICES_AFTER_FAILURE,
        )
    return PaymentNotPossible(
        "The payment could not be processed. You can pay at pickup instead.",
        order_token=token,
        choices=["pay_at_pickup"],
    )


class PaymentService:
    def __init__(
        self,
        pool: GuardedPool,
        book: OrderBook,
        provider: PaymentProvider,
        currency: str,
        notices: Notices | None = None,
        *,
        confirms_in_browser: bool = False,
    ) -> None:
        # True with a provider whose card form runs in the browser (Stripe's Payment Element):
        # a card order then needs no card token, and its payment starts at the payment intent
        # (gourmet.ordering.money.intents).
        self.confirms_in_browser = confirms_in_browser
        self._pool = pool
        self._notices = notices or Notices()
        # Every change recorded here is marked in the process's order views at once (the
        # notice that every other process gets comes a moment later).
        self._book = book
        self._provider = provider
        self._currency = currency

    async def pay(self, token: str, card_token: str) -> None:
        """Charge the order's card; on success the order goes to the kitchen."""
        if self.confirms_in_browser:
            raise CardConfirmedInBrowser(IN_BROWSER, field="card_token")
        async with self._pool.connection() as conn:
            order = await repo.lock_for_payment(conn, token)
        order = self.payable(token, order)
        key = attempt_key(token, order["payment_attempt"])
        try:
            # No connection is held here: the provider may take seconds.
            result = await self._provider.charge(
                idempotency_key=key,
                amount_cents=order["total_cents"],
                currency=self._currency,
                description=order_description(order["id"]),
                card_token=card_token,
            )
        except (ProviderUnavailable, PaymentRequestRejected) as exc:
            await self._record(token, "failed")
            raise provider_problem(token, exc) from exc
        if not result.approved:
            await self._record(token, "declined", next_attempt=True)
            raise PaymentDeclined(
                "Your card was declined. Try another card, or pay at pickup.",
                reason=result.reason,
                order_token=token,
                choices=CHOICES_AFTER_DECLINE,
            )
        with deadline.unbounded():  # the charge happened: record it, whatever the time
            await self.record_paid(token, result.charge_id)

    async def record_paid(self, token: str, charge_id: str) -> None:
        """Charge ``charge_id`` paid the order (see :meth:`record_paid_in`), in a transaction of
        its own, announced after the commit."""
        async with self._pool.connection() as conn, conn.transaction():
            version = await self.record_paid_in(conn, token, charge_id)
        self.announce(token, version)

    async def record_paid_in(self, conn: Conn, token: str, charge_id: str) -> int | None:
        """In the caller's transaction: charge ``charge_id`` paid the order, which goes to the
        kitchen, or is given back if the order stopped waiting for it. Returns the order's new
        version, if it changed (announce it after the commit)."""
        locked = await repo.lock_for_payment(conn, token)
        if locked is None:
            return None
        if locked["status"] != "awaiting_payment":
            if locked["payment_reference"] == charge_id:
                return None  # recorded already
            # It stopped waiting for this charge while the card was being charged (it
            # expired, was cancelled, or its customer chose to pay at pickup): the money
            # goes back by itself, and the customer is told so on the order's page.
            version = await give_back(
                conn, locked, charge_id, f"order {locked['id']} stopped waiting for it"
            )
            if version is not None:
                await order_repo.notify_order_changed(conn, token, version)
            return version
        await repo.record_payment(conn, locked["id"], payment_status="paid", reference=charge_id)
        version = await repo.release_to_kitchen(
            conn,
            locked["id"],
            token,
            payment_method="card",
            payment_status="paid",
            actor="payments",
        )
        await self._notices.order_event(conn, locked["id"], "confirmed")
        return version

    async def pay_at_pickup(self, token: str) -> None:
        """Give up on the card: the order goes to the kitchen, to be paid at pickup.

        An attempt still out at the provider is settled first: if its charge went through after
        all, the order is paid by card and nothing is owed at the counter. If the provider cannot
        say now, the order goes to the kitchen at once and the attempt is settled later (any
        charge found is given back)."""
        async with self._pool.connection() as conn:
            order = self.payable(token, await repo.lock_for_payment(conn, token))
        outstanding = order["payment_status"] in OUTSTANDING
        if outstanding:
            key = attempt_key(token, order["payment_attempt"])
            try:
                # No connection is held here: the provider may take seconds.
                result = await self._provider.settle_attempt(
                    idempotency_key=key, reference=order["payment_intent"]
                )
            except (ProviderUnavailable, PaymentRequestRejected):
                pass  # it cannot say now: settled later, below
            else:
                outstanding = False
                if result is not None and result.approved:
                    with deadline.unbounded():  # the charge happened: record it, whatever the time
                        await self.record_paid(token, result.charge_id)
                    return
        intent = order["payment_intent"]
        async with self._pool.connection() as conn, conn.transaction():
            order = self.payable(token, await repo.lock_for_payment(conn, token))
            # A payment made for the browser meanwhile (its intent recorded since the read
            # above) is settled too: the form could still confirm it.
            if outstanding or order["payment_intent"] != intent:
                await settle_later(conn, order, token)
            version = await repo.release_to_kitchen(
                conn,
                order["id"],
                token,
                payment_method="pay_at_pickup",
                payment_status="not_required",
                actor="customer",
            )
            await self._notices.order_event(conn, order["id"], "confirmed")
        self.announce(token, version)

    def announce(self, token: str, version: int | None) -> None:
        """After a commit: this process's views of the order are stale from now on."""
        if version is not None:
            self._book.announce(token, version)

    def payable(self, token: str, order: dict[str, Any] | None) -> dict[str, Any]:
        if order is None:
            raise no_such_order()
        if order["status"] != "awaiting_payment":
            raise PaymentNotPossible(
                "This order is not waiting for a payment"
                + (" (it is paid)." if order["payment_status"] == "paid" else "."),
                order_token=token,
            )
        return order

    async def _record(self, token: str, status: str, *, next_attempt: bool = False) -> None:
        with deadline.unbounded():
            version = await self._record_now(token, status, next_attempt=next_attempt)
        self.announce(token, version)

    async def _record_now(self, token: str, status: str, *, next_attempt: bool) -> int | None:
        async with self._pool.connection() as conn, conn.transaction():
            order = await repo.lock_for_payment(conn, token)
            if order is None or order["status"] != "awaiting_payment":
                return None
            version = await repo.record_payment(
                conn, order["id"], payment_status=status, next_attempt=next_attempt
            )
            # Its tracking page shows the payment: every process must hear of it.
            await order_repo.notify_order_changed(conn, token, version)
            return version
