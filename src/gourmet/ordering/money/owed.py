"""A refund owed: written with the change that ends a paid order (see ``refunds``), or for a
charge that an order turned out not to need (see ``settle``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gourmet.db.types import Conn
from gourmet.ordering.money import repository as repo
from gourmet.ordering.notifications import outbox

REFUND: Final = "refund"


def refund_key(charge_id: str) -> str:
    """The refund job's name and the provider's idempotency key: one refund per charge."""
    return f"refund-{charge_id}"


async def owe_refund(
    conn: Conn, order_id: int, charge_id: str, amount_cents: int, reason: str
) -> int:
    """In the caller's transaction: the refund of ``charge_id`` is owed. Returns the order's
    new version."""
    await outbox.enqueue(
        conn,
        REFUND,
        refund_key(charge_id),
        order_id,
        {"charge_id": charge_id, "amount_cents": amount_cents, "reason": reason},
    )
    return await repo.record_payment(
        conn, order_id, payment_status="refund_pending", reference=charge_id
    )


async def give_back(
    conn: Conn, order: Mapping[str, Any], charge_id: str, reason: str
) -> int | None:
    """In the caller's transaction: charge ``charge_id``, approved for ``order`` (a locked row)
    although the order does not use it, goes back. Returns the order's new version, if it
    changed.

    An order that ended unpaid takes the charge as its payment, refunded, as a paid order that
    ends does. An order paid another way (at pickup, or by another charge) keeps its payment as
    it is: the refund is of the stray charge alone, so staff never read "refunded" on an order
    whose customer still owes its price at the counter."""
    if order["payment_reference"] is None and order["payment_method"] == "card":
        return await owe_refund(conn, order["id"], charge_id, order["total_cents"], reason)
    payload = {
        "charge_id": charge_id,
        "amount_cents": order["total_cents"],
        "reason": reason,
        "stray": True,
    }
    # The same charge found twice (by the payment that returned late, and by settling its
    # attempt) makes one job: the job's name is the charge's.
    await outbox.enqueue(conn, REFUND, refund_key(charge_id), order["id"], payload)
    return None  # the order itself is unchanged until the refund is made
