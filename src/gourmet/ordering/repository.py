"""All SQL of ordering: slots, zones, orders, lines, history, idempotency keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from gourmet.db.types import Conn
from gourmet.ordering.pricing import PricedCart
from gourmet.ordering.schemas import Fulfilment, OrderStatus
from gourmet.ordering.slots import OpeningPeriod


@dataclass(frozen=True)
class RestaurantRules:
    tax_rate_bp: int
    slot_minutes: int
    lead_minutes: int
    ordering_paused: bool
    pause_message: str


@dataclass(frozen=True)
class Zone:
    id: int
    name: str
    prefixes: tuple[str, ...]
    fee_cents: int
    min_order_cents: int


@dataclass(frozen=True)
class NewOrder:
    token: str
    fulfilment: Fulfilment
    asap: bool
    slot_start: datetime
    customer_name: str
    phone: str
    email: str | None
    address_line: str | None
    city: str | None
    postcode: str | None
    zone_id: int | None
    notes: str
    payment_method: str
    cart: PricedCart
    delivery_fee_cents: int
    tax_cents: int


async def restaurant_rules(conn: Conn) -> RestaurantRules:
    row = await (
        await conn.execute(
            "SELECT tax_rate_bp, slot_minutes, lead_minutes, ordering_paused, pause_message"
            " FROM restaurant"
        )
    ).fetchone()
    if row is None:
        return RestaurantRules(0, 15, 20, True, "The restaurant is not set up yet.")
    return RestaurantRules(**row)


async def opening_periods(conn: Conn) -> tuple[OpeningPeriod, ...]:
    rows = await (
        await conn.execute("SELECT weekday, opens_minute, closes_minute FROM opening_hours")
    ).fetchall()
    return tuple(OpeningPeriod(**row) for row in rows)


async def slot_capacity(conn: Conn, fulfilment: Fulfilment) -> int:
    row = await (
        await conn.execute(
            "SELECT max_orders FROM slot_capacity WHERE fulfilment = %s", (fulfilment,)
        )
    ).fetchone()
    return int(row["max_orders"]) if row else 0


async def bookings(
    conn: Conn, fulfilment: Fulfilment, starts: Sequence[datetime]
) -> dict[datetime, int]:
    rows = await (
        await conn.execute(
            "SELECT slot_start, booked FROM slot_booking"
            " WHERE fulfilment = %s AND slot_start = ANY(%s)",
            (fulfilment, list(starts)),
        )
    ).fetchall()
    return {row["slot_start"]: row["booked"] for row in rows}


async def reserve_slot(conn: Conn, fulfilment: Fulfilment, start: datetime, capacity: int) -> bool:
    """Take one place in a slot if one is left; atomic under any concurrency.

    The upsert either creates the slot's row or locks the existing one, and the ``WHERE`` on the
    update re-reads ``booked`` under that lock, so two racing checkouts can never both take the
    last place: the loser's update matches no row and returns nothing.
    """
    if capacity <= 0:
        return False
    row = await (
        await conn.execute(
            "INSERT INTO slot_booking AS b (fulfilment, slot_start, booked) VALUES (%s, %s, 1)"
            " ON CONFLICT (fulfilment, slot_start) DO UPDATE SET booked = b.booked + 1"
            " WHERE b.booked < %s RETURNING booked",
            (fulfilment, start, capacity),
        )
    ).fetchone()
    return row is not None


async def release_slot(conn: Conn, fulfilment: Fulfilment, start: datetime) -> None:
    await conn.execute(
        "UPDATE slot_booking SET booked = booked - 1"
        " WHERE fulfilment = %s AND slot_start = %s AND booked > 0",
        (fulfilment, start),
    )


async def delivery_zones(conn: Conn) -> list[Zone]:
    rows = await (
        await conn.execute(
            "SELECT id, name, postcode_prefixes, fee_cents, min_order_cents FROM delivery_zone"
        )
    ).fetchall()
    return [
        Zone(
            r["id"], r["name"], tuple(r["postcode_prefixes"]), r["fee_cents"], r["min_order_cents"]
        )
        for r in rows
    ]


async def take_stock(conn: Conn, quantities: dict[int, int]) -> tuple[list[int], bool]:
    """Decrement tracked stock; return (items short of stock, whether any item sold out).

    Rows are locked in id order so that concurrent checkouts cannot deadlock on each other.
    """
    short: list[int] = []
    sold_out = False
    for item_id in sorted(quantities):
        row = await (
            await conn.execute(
                "UPDATE item SET stock = stock - %(qty)s, updated_at = now()"
                " WHERE id = %(id)s AND stock IS NOT NULL AND stock >= %(qty)s"
                " RETURNING stock",
                {"id": item_id, "qty": quantities[item_id]},
            )
        ).fetchone()
        if row is None:
            tracked = await (
                await conn.execute("SELECT stock FROM item WHERE id = %s", (item_id,))
            ).fetchone()
            if tracked is not None and tracked["stock"] is not None:
                short.append(item_id)
        elif row["stock"] == 0:
            sold_out = True
    return short, sold_out


async def return_stock(conn: Conn, order_id: int) -> bool:
    """Give a cancelled order's items back to tracked stock; True when any came back."""
    cur = await conn.execute(
        "UPDATE item i SET stock = i.stock + l.qty, updated_at = now()"
        " FROM (SELECT item_id, sum(quantity) AS qty FROM order_line"
        "       WHERE order_id = %s GROUP BY item_id) l"
        " WHERE i.id = l.item_id AND i.stock IS NOT NULL",
        (order_id,),
    )
    return cur.rowcount > 0


async def claim_idempotency_key(conn: Conn, key: str, fingerprint: str) -> bool:
    """Claim ``key`` for this transaction; False when another committed request owns it.

    A concurrent transaction holding the same key makes this INSERT wait on the primary key
    until that transaction ends: on commit we see the conflict, on rollback we take the key.
    """
    row = await (
        await conn.execute(
            "INSERT INTO checkout_request (idempotency_key, fingerprint) VALUES (%s, %s)"
            " ON CONFLICT DO NOTHING RETURNING idempotency_key",
            (key, fingerprint),
        )
    ).fetchone()
    return row is not None


async def claimed_request(conn: Conn, key: str) -> tuple[str, str | None] | None:
    row = await (
        await conn.execute(
            "SELECT c.fingerprint, o.token FROM checkout_request c"
            " LEFT JOIN orders o ON o.id = c.order_id WHERE c.idempotency_key = %s",
            (key,),
        )
    ).fetchone()
    return (row["fingerprint"], row["token"]) if row else None


async def attach_idempotency_key(conn: Conn, key: str, order_id: int) -> None:
    await conn.execute(
        "UPDATE checkout_request SET order_id = %s WHERE idempotency_key = %s", (order_id, key)
    )


async def insert_order(conn: Conn, order: NewOrder, actor: str) -> int:
    cart = order.cart
    subtotal = cart.subtotal_cents
    row = await (
        await conn.execute(
            """
            INSERT INTO orders (token, fulfilment, asap, slot_start, customer_name, phone, email,
                address_line, city, postcode, zone_id, notes, payment_method, subtotal_cents,
                delivery_fee_cents, tax_cents, total_cents)
            VALUES (%(token)s, %(fulfilment)s, %(asap)s, %(slot_start)s, %(customer_name)s,
                %(phone)s, %(email)s, %(address_line)s, %(city)s, %(postcode)s, %(zone_id)s,
                %(notes)s, %(payment_method)s, %(subtotal)s, %(fee)s, %(tax)s, %(total)s)
            RETURNING id
            """,
            {
                "token": order.token,
                "fulfilment": order.fulfilment,
                "asap": order.asap,
                "slot_start": order.slot_start,
                "customer_name": order.customer_name,
                "phone": order.phone,
                "email": order.email,
                "address_line": order.address_line,
                "city": order.city,
                "postcode": order.postcode,
                "zone_id": order.zone_id,
                "notes": order.notes,
                "payment_method": order.payment_method,
                "subtotal": subtotal,
                "fee": order.delivery_fee_cents,
                "tax": order.tax_cents,
                "total": subtotal + order.delivery_fee_cents + order.tax_cents,
            },
        )
    ).fetchone()
    assert row is not None
    order_id: int = row["id"]
    lines = [
        {
            "position": position,
            "item_id": line.item_id,
            "name": line.name,
            "quantity": line.quantity,
            "unit_price_cents": line.unit_price_cents,
            "line_total_cents": line.line_total_cents,
            "notes": line.notes,
            "options": [
                {
                    "option_id": o.option_id,
                    "group_name": o.group,
                    "name": o.name,
                    "price_delta_cents": o.price_delta_cents,
                }
                for o in line.options
            ],
        }
        for position, line in enumerate(cart.lines)
    ]
    # Lines and their options in one round trip, from a JSON document.
    await conn.execute(
        """
        WITH doc AS (SELECT value AS line FROM jsonb_array_elements(%(lines)s::jsonb)),
        inserted AS (
            INSERT INTO order_line (order_id, position, item_id, name, quantity,
                unit_price_cents, line_total_cents, notes)
            SELECT %(order_id)s, (line->>'position')::int, (line->>'item_id')::bigint,
                line->>'name', (line->>'quantity')::int, (line->>'unit_price_cents')::int,
                (line->>'line_total_cents')::int, line->>'notes'
            FROM doc
            RETURNING id, position
        )
        INSERT INTO order_line_option (line_id, option_id, group_name, name, price_delta_cents)
        SELECT i.id, (o->>'option_id')::bigint, o->>'group_name', o->>'name',
            (o->>'price_delta_cents')::int
        FROM inserted i
        JOIN doc d ON (d.line->>'position')::int = i.position
        CROSS JOIN LATERAL jsonb_array_elements(d.line->'options') AS o
        """,
        {"lines": Jsonb(lines), "order_id": order_id},
    )
    await record_status(conn, order_id, None, "received", None, actor)
    return order_id


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
            "SELECT id, token, status, fulfilment, slot_start FROM orders WHERE id = %s FOR UPDATE",
            (order_id,),
        )
    ).fetchone()


async def set_status(
    conn: Conn, order_id: int, status: OrderStatus, rejection_reason: str | None
) -> None:
    await conn.execute(
        "UPDATE orders SET status = %s, rejection_reason = coalesce(%s, rejection_reason),"
        " updated_at = now() WHERE id = %s",
        (status, rejection_reason, order_id),
    )


async def notify_order_changed(conn: Conn, token: str) -> None:
    await conn.execute("SELECT pg_notify('order_changed', %s)", (token,))


# One indexed read: the order with its lines, options and history, assembled by PostgreSQL.
ORDER_VIEW_SQL = """
SELECT o.id, o.token, o.status, o.fulfilment, o.asap, o.slot_start, o.customer_name, o.phone,
    o.address_line, o.city, o.postcode, o.notes, o.payment_method, o.subtotal_cents,
    o.delivery_fee_cents, o.tax_cents, o.total_cents, o.rejection_reason, o.created_at,
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


async def open_order_rows(conn: Conn, limit: int) -> list[dict[str, Any]]:
    return await (
        await conn.execute(
            ORDER_VIEW_SQL + " WHERE o.status IN ('received', 'accepted', 'preparing', 'ready',"
            " 'out_for_delivery') ORDER BY o.created_at LIMIT %s",
            (limit,),
        )
    ).fetchall()


async def configure_restaurant(
    conn: Conn,
    *,
    name: str,
    tax_rate_bp: int,
    slot_minutes: int,
    lead_minutes: int,
    opening: Sequence[OpeningPeriod],
    capacity: dict[str, int],
    zones: Sequence[tuple[str, Sequence[str], int, int]],
) -> None:
    """Replace the restaurant's rules: hours, slot capacities and delivery zones."""
    await conn.execute(
        "INSERT INTO restaurant (id, name, tax_rate_bp, slot_minutes, lead_minutes)"
        " VALUES (true, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
        " tax_rate_bp = excluded.tax_rate_bp, slot_minutes = excluded.slot_minutes,"
        " lead_minutes = excluded.lead_minutes, updated_at = now()",
        (name, tax_rate_bp, slot_minutes, lead_minutes),
    )
    await conn.execute("DELETE FROM opening_hours")
    for period in opening:
        await conn.execute(
            "INSERT INTO opening_hours (weekday, opens_minute, closes_minute) VALUES (%s, %s, %s)",
            (period.weekday, period.opens_minute, period.closes_minute),
        )
    for fulfilment, max_orders in capacity.items():
        await conn.execute(
            "INSERT INTO slot_capacity (fulfilment, max_orders) VALUES (%s, %s)"
            " ON CONFLICT (fulfilment) DO UPDATE SET max_orders = excluded.max_orders",
            (fulfilment, max_orders),
        )
    for zone_name, prefixes, fee, minimum in zones:
        await conn.execute(
            "INSERT INTO delivery_zone (name, postcode_prefixes, fee_cents, min_order_cents)"
            " VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET"
            " postcode_prefixes = excluded.postcode_prefixes, fee_cents = excluded.fee_cents,"
            " min_order_cents = excluded.min_order_cents",
            (zone_name, list(prefixes), fee, minimum),
        )


async def set_ordering_paused(conn: Conn, paused: bool, message: str) -> None:
    await conn.execute(
        "UPDATE restaurant SET ordering_paused = %s, pause_message = %s, updated_at = now()",
        (paused, message),
    )
