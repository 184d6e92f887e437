"""Settling a card attempt whose outcome is unknown, when its order stops waiting for it.

A charge that timed out may still go through at the provider, seconds later. If meanwhile the
customer chose to pay at pickup, or the unpaid order expired or was cancelled, nobody would
record that charge: the customer would be charged for an order paid another way, or for none.
So the change that takes an order out of ``awaiting_payment`` unpaid writes a ``settle`` job in
its own transaction (:func:`settle_later`). The job closes the attempt at the provider (no
charge can be made under its key afterwards) and learns how it ended; an approved charge the
order does not use is given back (:func:`gourmet.ordering.money.owed.give_back`). A provider that is
down, or an attempt still in progress there, is asked again later.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import structlog

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.ordering import repository as order_repo
from gourmet.ordering.money.owed import give_back
from gourmet.ordering.notifications import outbox
from gourmet.ordering.notifications.outbox import GiveUp, Job, RetryLater
from gourmet.ordering.tracking.book import OrderBook
from gourmet.payments.provider import PaymentProvider, PaymentRequestRejected, ProviderUnavailable
from gourmet.resilience import deadline

SETTLE: Final = "settle"
# An attempt is out at the provider, its outcome unknown to us: one is being made (``pending``)
# or the last one failed without an answer (``failed``: a timeout, a 5xx). A declined attempt
# is final, and the next one has not been made.
OUTSTANDING: Final = frozenset({"pending", "failed"})
log = structlog.get_logger(__name__)


def attempt_key(token: str, attempt: int) -> str:
    """The provider's idempotency key of an order's card attempt."""
    return f"{token}-{attempt}"


async def settle_later(conn: Conn, order: Mapping[str, Any], token: str) -> bool:
    """In the caller's transaction, which takes ``order`` (a locked row) out of
    ``awaiting_payment`` unpaid: settle its outstanding attempt, if it has one, afterwards."""
    if order["payment_method"] != "card" or order["payment_status"] not in OUTSTANDING:
        return False
    key = attempt_key(token, order["payment_attempt"])
    payload = {"attempt_key": key, "reference": order.get("payment_intent")}
    return await outbox.enqueue(conn, SETTLE, f"settle-{key}", order["id"], payload)


class SettleAttempts:
    """The ``settle`` jobs' handler."""

    def __init__(self, pool: GuardedPool, book: OrderBook, provider: PaymentProvider) -> None:
        self._pool = pool
        self._book = book
        self._provider = provider

    async def __call__(self, job: Job) -> None:
        key = str(job.payload["attempt_key"])
        reference = job.payload.get("reference")
        try:
            # No connection is held here: the provider may take seconds.
            result = await self._provider.settle_attempt(
                idempotency_key=key, reference=str(reference) if reference else None
            )
        except ProviderUnavailable as exc:
            raise RetryLater(str(exc)) from exc
        except PaymentRequestRejected as exc:
            raise GiveUp(str(exc)) from exc
        changed: tuple[str, int] | None = None
        with deadline.unbounded():
            async with self._pool.connection() as conn, conn.transaction():
                if result is not None and result.approved and job.order_id is not None:
                    changed = await self._give_back(conn, job.order_id, result.charge_id)
                await outbox.mark_done(conn, job.id)
        if changed is not None:
            self._book.announce(*changed)
        log.info(
            "card_attempt_settled",
            attempt=key,
            charge=result.charge_id if result else None,
            approved=bool(result and result.approved),
        )

    async def _give_back(self, conn: Conn, order_id: int, charge_id: str) -> tuple[str, int] | None:
        order = await order_repo.lock_order(conn, order_id)
        if order is None or order["payment_reference"] == charge_id:
            return None  # gone, or this charge is the order's payment after all
        reason = f"order {order_id} stopped waiting for this charge"
        version = await give_back(conn, order, charge_id, reason)
        if version is None:
            return None
        await order_repo.notify_order_changed(conn, order["token"], version)
        return order["token"], version
