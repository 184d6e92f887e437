"""All SQL of refunds by hand: the order locked with what it paid and gave back, each refund
written, made and read."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from gourmet.db.types import Conn

# What a refund's state is: done once made; a card refund's job otherwise says (pending, or
# failed when the provider refused it).
_REFUNDS = (
    "SELECT r.id, r.amount_cents, r.method, r.reason, r.lines, r.requested_by, r.created_at,"
    " r.done_at, r.order_id,"
    " CASE WHEN r.done_at IS NOT NULL THEN 'done'"
    "      WHEN b.state = 'failed' THEN 'failed' ELSE 'pending' END AS state"
    " FROM refund r LEFT JOIN outbox b ON b.event_key = 'refund-by-hand-' || r.id"
)


_ORDER_MONEY = (
    "SELECT o.id, o.token, o.status, o.payment_method, o.payment_status,"
    " o.payment_reference, o.subtotal_cents, o.tax_cents, o.total_cents,"
    " o.refunded_cents, (SELECT coalesce(sum(r.amount_cents), 0) FROM refund r"
    "   JOIN outbox b ON b.event_key = 'refund-by-hand-' || r.id"
    "   WHERE r.order_id = o.id AND r.done_at IS NULL AND b.state = 'pending')"
    "   AS pending_cents"
    " FROM orders o WHERE o.id = %s"
)


async def order_money(conn: Conn, number: int, *, lock: bool) -> dict[str, Any] | None:
    """The order with what was refunded and what is on its way; ``lock``: locked against every
    other refund and status change of it until the transaction ends."""
    if lock:
        # Locked first, read after: a statement that waited for the lock reads its subqueries
        # as of before the wait (READ COMMITTED), and would miss the refund that held it.
        await conn.execute("SELECT 1 FROM orders WHERE id = %s FOR UPDATE", (number,))
    return await (await conn.execute(_ORDER_MONEY, (number,))).fetchone()


async def lines_of(conn: Conn, order_id: int) -> list[dict[str, Any]]:
    return await (
        await conn.execute(
            # Counted from 1, as the order's lines are read (stored from 0).
            "SELECT position + 1 AS position, name, quantity, unit_price_cents FROM order_line"
            " WHERE order_id = %s ORDER BY position",
            (order_id,),
        )
    ).fetchall()


async def refunded_quantities(conn: Conn, order_id: int) -> dict[int, int]:
    """Per line position, the quantity already refunded (pending refunds included, failed
    ones not)."""
    rows = await (
        await conn.execute(
            f"SELECT lines FROM ({_REFUNDS}) r"  # noqa: S608 - a constant, no input
            " WHERE r.order_id = %s AND r.lines IS NOT NULL AND r.state <> 'failed'",
            (order_id,),
        )
    ).fetchall()
    taken: dict[int, int] = {}
    for row in rows:
        for line in row["lines"]:
            taken[line["position"]] = taken.get(line["position"], 0) + line["quantity"]
    return taken


async def by_request_key(conn: Conn, key: str) -> dict[str, Any] | None:
    return await (
        await conn.execute(
            f"SELECT * FROM ({_REFUNDS}) r WHERE r.id ="  # noqa: S608 - a constant, no input
            " (SELECT id FROM refund WHERE request_key = %s)",
            (key,),
        )
    ).fetchone()


async def insert(
    conn: Conn,
    order_id: int,
    *,
    amount_cents: int,
    method: str,
    reason: str,
    lines: list[dict[str, int]] | None,
    request_key: str,
    requested_by: str,
    done: bool,
) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO refund (order_id, amount_cents, method, reason, lines, request_key,"
            " requested_by, done_at) VALUES (%s, %s, %s, %s, %s, %s, %s,"
            " CASE WHEN %s THEN now() END) RETURNING id",
            (
                order_id,
                amount_cents,
                method,
                reason,
                Jsonb(lines) if lines is not None else None,
                request_key,
                requested_by,
                done,
            ),
        )
    ).fetchone()
    assert row is not None
    return int(row["id"])


async def add_refunded(conn: Conn, order_id: int, amount_cents: int, reference: str | None) -> Any:
    """Count ``amount_cents`` as given back; a card order refunded in full reads ``refunded``.
    Returns the order's token, status and new version."""
    return await (
        await conn.execute(
            "UPDATE orders SET refunded_cents = refunded_cents + %s,"
            " payment_status = CASE WHEN payment_method = 'card'"
            "   AND refunded_cents + %s = total_cents THEN 'refunded' ELSE payment_status END,"
            " refund_reference = coalesce(%s, refund_reference),"
            " updated_at = now(), version = version + 1"
            " WHERE id = %s RETURNING token, status, version",
            (amount_cents, amount_cents, reference, order_id),
        )
    ).fetchone()


async def mark_made(conn: Conn, refund_id: int, provider_refund_id: str) -> dict[str, Any] | None:
    """The provider made the refund; None when an earlier try already recorded it."""
    return await (
        await conn.execute(
            "UPDATE refund SET done_at = now(), provider_refund_id = %s"
            " WHERE id = %s AND done_at IS NULL RETURNING order_id, amount_cents, reason",
            (provider_refund_id, refund_id),
        )
    ).fetchone()


async def of_order(conn: Conn, order_id: int) -> list[dict[str, Any]]:
    return await (
        await conn.execute(
            f"SELECT * FROM ({_REFUNDS}) r WHERE r.order_id = %s ORDER BY r.id",  # noqa: S608
            (order_id,),
        )
    ).fetchall()
