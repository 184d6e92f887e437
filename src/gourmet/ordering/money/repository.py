"""All SQL of an order's card payment: the order locked for it, each outcome recorded, and the
paid (or switched to pay at pickup) order released to the kitchen."""

from __future__ import annotations

from typing import Any

from gourmet.db.types import Conn
from gourmet.ordering.repository import notify_order_changed, record_status, versioned


async def lock_for_payment(conn: Conn, token: str) -> dict[str, Any] | None:
    return await (
        await conn.execute(
            "SELECT id, status, payment_method, payment_status, payment_attempt, total_cents,"
            " payment_reference, payment_intent FROM orders WHERE token = %s FOR UPDATE",
            (token,),
        )
    ).fetchone()


async def record_payment(
    conn: Conn,
    order_id: int,
    *,
    payment_status: str,
    reference: str | None = None,
    next_attempt: bool = False,
) -> int:
    """Record a payment outcome; return the order's new version."""
    return await versioned(
        conn,
        "UPDATE orders SET payment_status = %s,"
        " payment_reference = coalesce(%s, payment_reference),"
        " payment_attempt = payment_attempt + %s, updated_at = now(), version = version + 1"
        " WHERE id = %s RETURNING version",
        (payment_status, reference, 1 if next_attempt else 0, order_id),
    )


async def release_to_kitchen(
    conn: Conn, order_id: int, token: str, *, payment_method: str, payment_status: str, actor: str
) -> int:
    """An order paid (or switched to pay at pickup) becomes a received order; return its new
    version."""
    version = await versioned(
        conn,
        "UPDATE orders SET status = 'received', payment_method = %s, payment_status = %s,"
        " updated_at = now(), version = version + 1 WHERE id = %s RETURNING version",
        (payment_method, payment_status, order_id),
    )
    await record_status(conn, order_id, "awaiting_payment", "received", None, actor)
    await notify_order_changed(conn, token, version)
    return version


async def record_intent(conn: Conn, order_id: int, intent_id: str) -> None:
    """The order's payment for the browser, made at the provider: its id, kept to settle it."""
    await conn.execute(
        "UPDATE orders SET payment_intent = %s, payment_status = 'pending'"
        " WHERE id = %s AND payment_intent IS NULL",
        (intent_id, order_id),
    )


async def first_delivery(conn: Conn, event_id: str, kind: str) -> bool:
    """Note a provider's event as handled, in the caller's transaction; False when it was
    handled before (a concurrent delivery waits here for the first one's transaction)."""
    row = await (
        await conn.execute(
            "INSERT INTO stripe_event (id, type) VALUES (%s, %s)"
            " ON CONFLICT (id) DO NOTHING RETURNING id",
            (event_id, kind),
        )
    ).fetchone()
    return row is not None
