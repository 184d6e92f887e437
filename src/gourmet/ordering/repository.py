"""The SQL every concept of ordering shares on an order it changes: its row locked, its status
set, its history written, its version bumped, and the ``order_changed`` notice sent on commit.
Each concept's own SQL is in its package (``checkout/``, ``tracking/``, ``money/``)."""

from __future__ import annotations

from typing import Any

from gourmet.db.types import Conn
from gourmet.ordering.schemas import OrderStatus


async def record_status(
    conn: Conn,
    order_id: int,
    from_status: OrderStatus | None,
    to_status: OrderStatus,
    reason: str | None,
    actor: str,
) -> None:
    await conn.execute(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason, actor)"
        " VALUES (%s, %s, %s, %s, %s)",
        (order_id, from_status, to_status, reason, actor),
    )


async def lock_order(conn: Conn, order_id: int) -> dict[str, Any] | None:
    return await (
        await conn.execute(
            "SELECT id, token, status, fulfilment, slot_start, payment_method, payment_status,"
            " payment_attempt, payment_reference, payment_intent, total_cents, slot_weight"
            " FROM orders WHERE id = %s FOR UPDATE",
            (order_id,),
        )
    ).fetchone()


async def set_status(
    conn: Conn, order_id: int, status: OrderStatus, rejection_reason: str | None
) -> int:
    """Move the order to ``status``; return its new version."""
    return await versioned(
        conn,
        "UPDATE orders SET status = %s, rejection_reason = coalesce(%s, rejection_reason),"
        " updated_at = now(), version = version + 1 WHERE id = %s RETURNING version",
        (status, rejection_reason, order_id),
    )


async def versioned(conn: Conn, update: str, params: tuple[Any, ...]) -> int:
    row = await (await conn.execute(update, params)).fetchone()
    assert row is not None, "the order was locked by the caller"
    return int(row["version"])


def notice(token: str, version: int) -> str:
    """The ``order_changed`` payload: which order, and its version after the change."""
    return f"{token}:{version}"


def parse_notice(payload: str) -> tuple[str, int | None]:
    """(token, version) of an ``order_changed`` payload (tokens never contain ":")."""
    token, _sep, version = payload.partition(":")
    return token, int(version) if version.isascii() and version.isdigit() else None


async def notify_order_changed(conn: Conn, token: str, version: int) -> None:
    """Tell every process, on commit, that the order changed (tracking, streams, the board)."""
    await conn.execute("SELECT pg_notify('order_changed', %s)", (notice(token, version),))


# What an order keeps of a customer who deleted their account: nothing that names or reaches them.
FORGOTTEN_NAME = "Deleted customer"
FORGOTTEN_PHONE = "-----"  # the column holds at least five characters


async def forget_customer(conn: Conn, account_id: int) -> None:
    """In the caller's transaction: the account's orders lose the customer's name, phone,
    email, address and notes; amounts, lines and history stay in the books. Every process
    is told, so no tracking view held in memory keeps them."""
    cursor = await conn.execute(
        "UPDATE orders SET customer_name = %s, phone = %s, email = NULL, notes = '',"
        " address_line = CASE WHEN address_line IS NULL THEN NULL ELSE '' END,"
        " city = CASE WHEN city IS NULL THEN NULL ELSE '' END,"
        " postcode = CASE WHEN postcode IS NULL THEN NULL ELSE '' END,"
        " account_id = NULL, updated_at = now(), version = version + 1"
        " WHERE account_id = %s RETURNING token, version",
        (FORGOTTEN_NAME, FORGOTTEN_PHONE, account_id),
    )
    for row in await cursor.fetchall():
        await notify_order_changed(conn, row["token"], row["version"])
