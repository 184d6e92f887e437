"""Refunds by hand: a manager gives back a whole order, chosen lines or an amount, with a reason.

One transaction per refund, the order locked for it: what is left to give back (what was paid,
less what was refunded and what is on its way) is read and taken under the same lock, so two
managers refunding at once never give back more than was paid. A card order's refund goes
through the provider: an outbox job, named after the refund (``refund-by-hand-<id>``, the
provider's idempotency key too), made after the commit by :class:`~.refunds.Refunds`, which
records it with :func:`record_made`. A pay-at-pickup order's refund is cash, handed over at the
counter: recorded at once. Each is in the order's history (and so on its tracking page and in
the day's sales figures), and the customer is told by email once the money is back.
"""

from __future__ import annotations

from typing import Any

import msgspec
import psycopg.errors

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.money import Money
from gourmet.ordering import repository as order_repo
from gourmet.ordering.errors import (
    IdempotencyKeyReused,
    InvalidRefund,
    NothingToRefund,
    RefundTooLarge,
    no_such_order,
)
from gourmet.ordering.money import refund_repository as repo
from gourmet.ordering.money.owed import REFUND
from gourmet.ordering.money.schemas import OrderRefunds, RefundLine, RefundRequest, RefundView
from gourmet.ordering.notifications import outbox
from gourmet.ordering.notifications.notices import Notices
from gourmet.ordering.tracking.book import OrderBook

COLLECTED = ("completed", "delivered")  # a pay-at-pickup order is paid once it is handed over


def job_key(refund_id: int) -> str:
    return f"refund-by-hand-{refund_id}"


def paid_cents(order: dict[str, Any]) -> int:
    """What the customer paid: a card order once charged, a pay-at-pickup order once collected."""
    if order["payment_method"] == "card":
        charged = order["payment_status"] in ("paid", "refund_pending", "refunded")
        return int(order["total_cents"]) if charged else 0
    return int(order["total_cents"]) if order["status"] in COLLECTED else 0


def refundable_cents(order: dict[str, Any]) -> int:
    if order["payment_status"] == "refund_pending":
        return 0  # the order ended unserved: the rest is already on its way back
    return max(0, paid_cents(order) - int(order["refunded_cents"]) - int(order["pending_cents"]))


class HandRefunds:
    def __init__(
        self, pool: GuardedPool, book: OrderBook, money: Money, notices: Notices | None = None
    ) -> None:
        self._pool = pool
        self._book = book
        self._money = money
        self._notices = notices or Notices()

    async def refunds(self, number: int) -> OrderRefunds:
        async with self._pool.connection() as conn:
            order = await repo.order_money(conn, number, lock=False)
            if order is None:
                raise no_such_order()
            rows = await repo.of_order(conn, order["id"])
        return _refunds_of(order, rows)

    async def refund(
        self, number: int, request: RefundRequest, *, actor: str, key: str
    ) -> tuple[RefundView, bool]:
        """Make the refund asked; a request sent again with its key returns the first one.
        Returns the refund and whether it is new."""
        reason = " ".join(request.reason.split())
        if not reason:
            raise InvalidRefund("Say why the money goes back.", field="reason")
        if sum((request.whole, request.lines is not None, request.amount_cents is not None)) != 1:
            raise InvalidRefund("Ask for exactly one of whole, lines and amount_cents.")
        try:
            async with self._pool.connection() as conn, conn.transaction():
                made = await self._refund(conn, number, request, reason, actor, key)
        except psycopg.errors.UniqueViolation as exc:  # the key names a refund of another order
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used for a refund of another order."
            ) from exc
        if made.announce is not None:
            self._book.announce(*made.announce)
        return made.view, made.new

    async def _refund(
        self, conn: Conn, number: int, request: RefundRequest, reason: str, actor: str, key: str
    ) -> _Made:
        order = await repo.order_money(conn, number, lock=True)
        if order is None:
            raise no_such_order()
        earlier = await repo.by_request_key(conn, key)
        if earlier is not None:
            if earlier["order_id"] != order["id"]:
                raise IdempotencyKeyReused(
                    "This Idempotency-Key was used for a refund of another order."
                )
            return _Made(_view(earlier), new=False, announce=None)
        left = refundable_cents(order)
        if left == 0:
            raise NothingToRefund(_why_nothing(order))
        amount, lines = await self._amount(conn, order, request, left)
        if amount > left:
            raise RefundTooLarge(
                f"At most {self._money(left)} of order {number} can still be refunded.",
                refundable_cents=left,
            )
        card = order["payment_method"] == "card"
        refund_id = await repo.insert(
            conn,
            order["id"],
            amount_cents=amount,
            method="card" if card else "cash",
            reason=reason,
            lines=lines,
            request_key=key,
            requested_by=actor,
            done=not card,
        )
        if card:
            payload = {
                "charge_id": order["payment_reference"],
                "amount_cents": amount,
                "reason": reason,
                "refund_id": refund_id,
            }
            await outbox.enqueue(conn, REFUND, job_key(refund_id), order["id"], payload)
            version = await order_repo.versioned(
                conn,
                "UPDATE orders SET updated_at = now(), version = version + 1 WHERE id = %s"
                " RETURNING version",
                (order["id"],),
            )
            note = f"Refund of {self._money(amount)} to the card asked: {reason}"
        else:
            changed = await repo.add_refunded(conn, order["id"], amount, None)
            version = changed["version"]
            note = f"Refunded {self._money(amount)} in cash: {reason}"
            await self._notices.order_event(
                conn,
                order["id"],
                "refunded",
                tag=f"refund-{refund_id}",
                details=_told(amount, "cash", reason),
            )
        await order_repo.record_status(
            conn, order["id"], order["status"], order["status"], note, actor
        )
        await order_repo.notify_order_changed(conn, order["token"], version)
        rows = await repo.of_order(conn, order["id"])
        view = next(_view(row) for row in rows if row["id"] == refund_id)
        return _Made(view, new=True, announce=(order["token"], version))

    async def _amount(
        self, conn: Conn, order: dict[str, Any], request: RefundRequest, left: int
    ) -> tuple[int, list[dict[str, int]] | None]:
        if request.amount_cents is not None:
            return request.amount_cents, None
        if request.lines is None:
            return left, None  # the whole order: all that is left of it
        lines = {line["position"]: line for line in await repo.lines_of(conn, order["id"])}
        taken = await repo.refunded_quantities(conn, order["id"])
        asked: dict[int, int] = {}
        for wanted in request.lines:
            asked[wanted.position] = asked.get(wanted.position, 0) + wanted.quantity
        items = 0
        for position, quantity in asked.items():
            line = lines.get(position)
            if line is None:
                raise InvalidRefund(f"Order {order['id']} has no line {position}.", field="lines")
            still = line["quantity"] - taken.get(position, 0)
            if quantity > still:
                raise InvalidRefund(
                    f"Line {position} ({line['name']}) has {still} left to refund, not {quantity}.",
                    field="lines",
                )
            items += line["unit_price_cents"] * quantity
        # The lines' share of the tax goes back with them (delivery fee and tip stay).
        tax = (
            round(items * order["tax_cents"] / order["subtotal_cents"])
            if order["subtotal_cents"]
            else 0
        )
        chosen = [{"position": p, "quantity": q} for p, q in sorted(asked.items())]
        return items + tax, chosen


async def record_made(
    conn: Conn, refund_id: int, provider_refund_id: str, money: Money, notices: Notices
) -> tuple[str, int] | None:
    """In the caller's transaction: the provider made refund ``refund_id``; the order counts it,
    its history says so, and the customer is told. None when an earlier try recorded it."""
    made = await repo.mark_made(conn, refund_id, provider_refund_id)
    if made is None:
        return None
    order_id, amount = made["order_id"], made["amount_cents"]
    changed = await repo.add_refunded(conn, order_id, amount, provider_refund_id)
    note = f"Refunded {money(amount)} to the card: {made['reason']}"
    await order_repo.record_status(
        conn, order_id, changed["status"], changed["status"], note, "payments"
    )
    await notices.order_event(
        conn,
        order_id,
        "refunded",
        tag=f"refund-{refund_id}",
        details=_told(amount, "card", made["reason"]),
    )
    await order_repo.notify_order_changed(conn, changed["token"], changed["version"])
    return changed["token"], changed["version"]


class _Made(msgspec.Struct, frozen=True):
    view: RefundView
    new: bool
    announce: tuple[str, int] | None


def _told(amount: int, method: str, reason: str) -> dict[str, Any]:
    return {"amount_cents": amount, "method": method, "reason": reason}


def _why_nothing(order: dict[str, Any]) -> str:
    number = order["id"]
    if order["payment_status"] == "refund_pending":
        return f"Order {number} ended unserved: its payment is already being refunded in full."
    if paid_cents(order) == 0:
        if order["payment_method"] == "card":
            return f"Order {number} has not been paid by card: there is nothing to give back."
        return (
            f"Order {number} is paid at pickup and has not been collected: nothing was paid yet"
            " (reject or cancel it instead)."
        )
    return f"Order {number} has been refunded in full."


def _view(row: dict[str, Any]) -> RefundView:
    lines = [RefundLine(**line) for line in row["lines"]] if row["lines"] is not None else None
    return RefundView(
        id=row["id"],
        amount_cents=row["amount_cents"],
        method=row["method"],
        reason=row["reason"],
        lines=lines,
        state=row["state"],
        requested_by=row["requested_by"],
        created_at=row["created_at"],
        done_at=row["done_at"],
    )


def _refunds_of(order: dict[str, Any], rows: list[dict[str, Any]]) -> OrderRefunds:
    return OrderRefunds(
        order=order["id"],
        paid_cents=paid_cents(order),
        refunded_cents=order["refunded_cents"],
        pending_cents=order["pending_cents"],
        refundable_cents=refundable_cents(order),
        refunds=[_view(row) for row in rows],
    )
