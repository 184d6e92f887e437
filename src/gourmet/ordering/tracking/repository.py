"""All SQL of reading orders as customers and staff see them: one indexed read each, the order
with its lines, options and history assembled by PostgreSQL."""

from __future__ import annotations

from typing import Any

from gourmet.db.types import Conn

# One indexed read: the order with its lines, options and history, assembled by PostgreSQL.
ORDER_VIEW_SQL = """
SELECT o.id, o.token, o.status, o.fulfilment, o.asap, o.slot_start, o.customer_name, o.phone,
    o.address_line, o.city, o.postcode, o.notes, o.payment_method, o.payment_status,
    o.subtotal_cents,
    o.delivery_fee_cents, o.tax_cents, o.total_cents, o.rejection_reason, o.created_at,
    o.version, o.refunded_cents, o.email, o.tip_cents,
    coalesce(o.estimated_ready_at, o.slot_start) AS estimated_ready_at,
    (SELECT coalesce(json_agg(json_build_object(
        'item_id', l.item_id, 'name', l.name, 'quantity', l.quantity,
        'unit_price_cents', l.unit_price_cents, 'line_total_cents', l.line_total_cents,
        'notes', l.notes,
        'options', (SELECT coalesce(json_agg(json_build_object(
            'option_id', lo.option_id, 'group', lo.group_name, 'name', lo.name,
            'price_delta_cents', lo.price_delta_cents) ORDER BY lo.option_id), '[]')
            FROM order_line_option lo WHERE lo.line_id = l.id)
        ) ORDER BY l.position), '[]') FROM order_line l WHERE l.order_id = o.id) AS lines,
    (SELECT json_agg(json_build_object(
        'status', h.to_status, 'at', h.at, 'actor', h.actor, 'reason', h.reason) ORDER BY h.id)
        FROM order_status_history h WHERE h.order_id = o.id) AS history
FROM orders o
"""


async def order_view_row(conn: Conn, token: str) -> dict[str, Any] | None:
    return await (await conn.execute(ORDER_VIEW_SQL + " WHERE o.token = %s", (token,))).fetchone()


async def order_mail_row(conn: Conn, order_id: int) -> dict[str, Any] | None:
    """The order as a customer's message shows it (the view row, with the email)."""
    return await (await conn.execute(ORDER_VIEW_SQL + " WHERE o.id = %s", (order_id,))).fetchone()


async def order_view_rows(conn: Conn, tokens: list[str]) -> list[dict[str, Any]]:
    """The view rows of these orders (those that exist), in one read."""
    return await (
        await conn.execute(ORDER_VIEW_SQL + " WHERE o.token = ANY(%s)", (tokens,))
    ).fetchall()


async def open_order_rows(conn: Conn, limit: int) -> list[dict[str, Any]]:
    return await (
        await conn.execute(
            ORDER_VIEW_SQL + " WHERE o.status IN ('received', 'accepted', 'preparing', 'ready',"
            " 'out_for_delivery')"
            " ORDER BY coalesce(o.estimated_ready_at, o.slot_start), o.created_at LIMIT %s",
            (limit,),
        )
    ).fetchall()


async def account_order_rows(conn: Conn, account_id: int, limit: int) -> list[dict[str, Any]]:
    """The account's orders as order view rows, newest first."""
    return await (
        await conn.execute(
            ORDER_VIEW_SQL
            + " WHERE o.account_id = %s ORDER BY o.created_at DESC, o.id DESC LIMIT %s",
            (account_id, limit),
        )
    ).fetchall()
