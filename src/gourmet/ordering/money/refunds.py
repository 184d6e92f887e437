"""Money is always right: refunds of paid orders that end unserved.

- A paid card order that is rejected or cancelled owes its refund: :func:`owe_refund` writes the
  job into the outbox in the transaction that ends the order, and marks the payment
  ``refund_pending``. A charge approved for an order that ended while the card was being charged
  (it expired, or staff cancelled it) is owed back the same way.
- :class:`Refunds` runs the job (``refund`` in the outbox): the provider is asked with the job's
  name as its idempotency key (``refund-<charge id>``: one refund per charge, however often it is
  tried), and the outcome is recorded in the order (``refunded``, the amount, the provider's
  refund id), in its history and on its tracking page.
- Card orders still ``awaiting_payment`` after ``GOURMET_PAYMENTS__UNPAID_EXPIRY_MINUTES`` are
  cancelled by :class:`gourmet.kitchen.orders.UnpaidExpiry`.
"""

from __future__ import annotations

import structlog

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.money import Money
from gourmet.ordering import repository as order_repo
from gourmet.ordering.money.by_hand import record_made
from gourmet.ordering.money.owed import REFUND
from gourmet.ordering.money.settle import SETTLE, SettleAttempts
from gourmet.ordering.notifications import outbox
from gourmet.ordering.notifications.notices import Notices
from gourmet.ordering.notifications.outbox import GiveUp, Handler, Job, RetryLater
from gourmet.ordering.tracking.book import OrderBook
from gourmet.payments.provider import PaymentProvider, PaymentRequestRejected, ProviderUnavailable
from gourmet.resilience import deadline

log = structlog.get_logger(__name__)


class Refunds:
    """The ``refund`` jobs' handler."""

    def __init__(
        self,
        pool: GuardedPool,
        book: OrderBook,
        provider: PaymentProvider,
        money: Money,
        notices: Notices | None = None,
    ) -> None:
        self._pool = pool
        self._notices = notices or Notices()
        self._book = book
        self._provider = provider
        self._money = money

    async def __call__(self, job: Job) -> None:
        charge_id = str(job.payload["charge_id"])
        amount_cents = int(job.payload["amount_cents"])
        try:
            # No connection is held here: the provider may take seconds.
            result = await self._provider.refund(
                idempotency_key=job.event_key,
                charge_id=charge_id,
                amount_cents=amount_cents,
                reason=str(job.payload.get("reason", "")),
            )
        except ProviderUnavailable as exc:
            raise RetryLater(str(exc)) from exc
        except PaymentRequestRejected as exc:
            raise GiveUp(str(exc)) from exc
        with deadline.unbounded():
            async with self._pool.connection() as conn, conn.transaction():
                recorded = await self._record(conn, job, result.refund_id, result.amount_cents)
                await outbox.mark_done(conn, job.id)
        if recorded is not None:
            self._book.announce(*recorded)
        log.info("refunded", charge=charge_id, amount_cents=amount_cents, order=job.order_id)

    async def _record(
        self, conn: Conn, job: Job, refund_id_at_provider: str, amount_cents: int
    ) -> tuple[str, int] | None:
        if job.payload.get("stray"):
            return await self._record_stray(conn, job, amount_cents)
        if "refund_id" in job.payload:  # a manager's refund (by_hand.py)
            refund_id = int(job.payload["refund_id"])
            return await record_made(
                conn, refund_id, refund_id_at_provider, self._money, self._notices
            )
        row = await (
            await conn.execute(
                "UPDATE orders SET payment_status = 'refunded', refund_reference = %s,"
                " refunded_cents = refunded_cents + %s, updated_at = now(),"
                " version = version + 1"
                " WHERE id = %s AND payment_status = 'refund_pending'"
                " RETURNING token, status, version",
                (refund_id_at_provider, amount_cents, job.order_id),
            )
        ).fetchone()
        if row is None:  # recorded by an earlier try of this job
            return None
        note = f"Refunded {self._money(amount_cents)} to the card"
        await order_repo.record_status(
            conn, job.order_id or 0, row["status"], row["status"], note, "payments"
        )
        await self._notices.order_event(conn, job.order_id or 0, "refunded")
        await order_repo.notify_order_changed(conn, row["token"], row["version"])
        return row["token"], row["version"]

    async def _record_stray(
        self, conn: Conn, job: Job, amount_cents: int
    ) -> tuple[str, int] | None:
        """A charge the order did not use was given back: said in its history, its own
        payment untouched (it is paid at pickup, or by another charge)."""
        pending = await (
            await conn.execute(
                "SELECT 1 FROM outbox WHERE id = %s AND state = 'pending' FOR UPDATE", (job.id,)
            )
        ).fetchone()
        if pending is None or job.order_id is None:  # recorded by an earlier try of this job
            return None
        row = await (
            await conn.execute(
                "UPDATE orders SET updated_at = now(), version = version + 1 WHERE id = %s"
                " RETURNING token, status, version",
                (job.order_id,),
            )
        ).fetchone()
        if row is None:
            return None
        note = f"Refunded {self._money(amount_cents)}: a card charge this order did not need"
        await order_repo.record_status(
            conn, job.order_id, row["status"], row["status"], note, "payments"
        )
        await order_repo.notify_order_changed(conn, row["token"], row["version"])
        return row["token"], row["version"]


def payment_jobs(
    pool: GuardedPool,
    book: OrderBook,
    provider: PaymentProvider,
    money: Money,
    notices: Notices | None = None,
) -> dict[str, Handler]:
    """The outbox handlers that move money: refunds, and the settling of card attempts."""
    return {
        REFUND: Refunds(pool, book, provider, money, notices),
        SETTLE: SettleAttempts(pool, book, provider),
    }
