"""A refund owed: written with the change that ends a paid order (see ``refunds``)."""

from __future__ import annotations

from typing import Final

from gourmet.db.types import Conn
from gourmet.ordering import outbox
from gourmet.ordering import repository as repo

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
