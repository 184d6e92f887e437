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
    status: OrderStatus = "received"
    payment_status: str = "not_required"
    account_id: int | None = None  # the signed-in customer's account; None for a guest


@dataclass(frozen=True)
class OrderingContext:
    """Everything checkout and the slot list need to know about the restaurant, in one read."""

    rules: RestaurantRules
    periods: tuple[OpeningPeriod, ...]
    capacity: int
    zones: tuple[Zone, ...]


_CONTEXT_SQL = """
SELECT r.tax_rate_bp, r.slot_minutes, r.lead_minutes, r.ordering_paused, r.pause_message,
    coalesce((SELECT json_agg(json_build_object('weekday', h.weekday,
        'opens_minute', h.opens_minute, 'closes_minute', h.closes_minute))
        FROM opening_hours h), '[]') AS periods,
    coalesce((SELECT c.max_orders FROM slot_capacity c WHERE c.fulfilment = %s), 0) AS capacity,
    coalesce((SELECT json_agg(json_build_object('id', z.id, 'name', z.name,
        'prefixes', z.postcode_prefixes, 'fee_cents', z.fee_cents,
        'min_order_cents', z.min_order_cents)) FROM delivery_zone z), '[]') AS zones
FROM restaurant r
"""


async def ordering_context(conn: Conn, fulfilment: Fulfilment) -> OrderingContext:
    row = await (await conn.execute(_CONTEXT_SQL, (fulfilment,))).fetchone()
    if row is None:
        rules = RestaurantRules(0, 15, 20, True, "The restaurant is not set up yet.")
        return OrderingContext(rules, (), 0, ())
    return OrderingContext(
        rules=RestaurantRules(
            tax_rate_bp=row["tax_rate_bp"],
            slot_minutes=row["slot_minutes"],
            lead_minutes=row["lead_minutes"],
            ordering_paused=row["ordering_paused"],
            pause_message=row["pause_message"],
        ),
        periods=tuple(OpeningPeriod(**p) for p in row["periods"]),
        capacity=row["capacity"],
        zones=tuple(
            Zone(z["id"], z["name"], tuple(z["prefixes"]), z["fee_cents"], z["min_order_cents"])
            for z in row["zones"]
        ),
    )


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


async def reserve_first_free(
    conn: Conn, fulfilment: Fulfilment, starts: Sequence[datetime], capacity: int
) -> datetime | None:
    """Take a place in the first of ``starts`` that has room, in one round trip.

    The candidate is picked from a snapshot; the upsert's guarded update then re-checks it under
    the row lock, so a racing checkout that filled it meanwhile makes this return None (the
    caller retries) rather than overbook.
    """
    if capacity <= 0 or not starts:
        return None
    row = await (
        await conn.execute(
            "INSERT INTO slot_booking AS b (fulfilment, slot_start, booked)"
            " SELECT %(f)s, c.start, 1 FROM unnest(%(starts)s::timestamptz[])"
            "   WITH ORDINALITY AS c(start, n)"
            " LEFT JOIN slot_booking s ON s.fulfilment = %(f)s AND s.slot_start = c.start"
            " WHERE coalesce(s.booked, 0) < %(cap)s ORDER BY c.n LIMIT 1"
            " ON CONFLICT (fulfilment, slot_start) DO UPDATE SET booked = b.booked + 1"
            " WHERE b.booked < %(cap)s RETURNING slot_start",
            {"f": fulfilment, "starts": list(starts), "cap": capacity},
        )
    ).fetchone()
    return row["slot_start"] if row else None


async def release_slot(conn: Conn, fulfilment: Fulfilment, start: datetime) -> None:
    await conn.execute(
        "UPDATE slot_booking SET booked = booked - 1"
        " WHERE fulfilment = %s AND slot_start = %s AND booked > 0",
        (fulfilment, start),
    )


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


# The order, its lines and options, its first history entry, the idempotency key's link and the
# notification, in one statement (one round trip). Every CTE that writes runs exactly once.
_INSERT_ORDER_SQL = """
WITH new_order AS (
    INSERT INTO orders (token, status, fulfilment, asap, slot_start, customer_name, phone, email,
        address_line, city, postcode, zone_id, notes, payment_method, payment_status,
        subtotal_cents, delivery_fee_cents, tax_cents, total_cents, account_id)
    VALUES (%(token)s, %(status)s, %(fulfilment)s, %(asap)s, %(slot_start)s, %(customer_name)s,
        %(phone)s, %(email)s, %(address_line)s, %(city)s, %(postcode)s, %(zone_id)s,
        %(notes)s, %(payment_method)s, %(payment_status)s, %(subtotal)s, %(fee)s, %(tax)s,
        %(total)s, %(account_id)s)
    RETURNING id, created_at
),
doc AS (SELECT value AS line FROM jsonb_array_elements(%(lines)s::jsonb)),
new_lines AS (
    INSERT INTO order_line (order_id, position, item_id, name, quantity, unit_price_cents,
        line_total_cents, notes)
    SELECT (SELECT id FROM new_order), (line->>'position')::int, (line->>'item_id')::bigint,
        line->>'name', (line->>'quantity')::int, (line->>'unit_price_cents')::int,
        (line->>'line_total_cents')::int, line->>'notes'
    FROM doc
    RETURNING id, position
),
new_options AS (
    INSERT INTO order_line_option (line_id, option_id, group_name, name, price_delta_cents)
    SELECT l.id, (o->>'option_id')::bigint, o->>'group', o->>'name',
        (o->>'price_delta_cents')::int
    FROM new_lines l
    JOIN doc d ON (d.line->>'position')::int = l.position
    CROSS JOIN LATERAL jsonb_array_elements(d.line->'options') AS o
),
first_status AS (
    INSERT INTO order_status_history (order_id, from_status, to_status, actor, at)
    SELECT id, NULL, %(status)s, %(actor)s, created_at FROM new_order
),
linked_key AS (
    UPDATE checkout_request SET order_id = (SELECT id FROM new_order)
    WHERE idempotency_key = %(key)s
),
notified AS (SELECT pg_notify('order_changed', %(token)s) AS sent)
SELECT id, created_at FROM new_order, notified
"""


def line_documents(cart: PricedCart) -> list[dict[str, Any]]:
    """The cart's lines in the shape the order view uses (options ordered by id)."""
    return [
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
                    "group": o.group,
                    "name": o.name,
                    "price_delta_cents": o.price_delta_cents,
                }
                for o in sorted(line.options, key=lambda o: o.option_id)
            ],
        }
        for position, line in enumerate(cart.lines)
    ]


async def insert_order(
    conn: Conn, order: NewOrder, lines: list[dict[str, Any]], key: str | None, actor: str
) -> tuple[int, datetime]:
    """Store the order; return its number and creation time."""
    subtotal = order.cart.subtotal_cents
    row = await (
        await conn.execute(
            _INSERT_ORDER_SQL,
            {
                "token": order.token,
                "status": order.status,
                "payment_status": order.payment_status,
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
                "lines": Jsonb(lines),
                "key": key,
                "actor": actor,
                "account_id": order.account_id,
            },
        )
    ).fetchone()
    assert row is not None
    return row["id"], row["created_at"]


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
    o.address_line, o.city, o.postcode, o.notes, o.payment_method, o.payment_status,
    o.subtotal_cents,
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


async def lock_for_payment(conn: Conn, token: str) -> dict[str, Any] | None:
    return await (
        await conn.execute(
            "SELECT id, status, payment_method, payment_status, payment_attempt, total_cents"
            " FROM orders WHERE token = %s FOR UPDATE",
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
) -> None:
    await conn.execute(
        "UPDATE orders SET payment_status = %s,"
        " payment_reference = coalesce(%s, payment_reference),"
        " payment_attempt = payment_attempt + %s, updated_at = now() WHERE id = %s",
        (payment_status, reference, 1 if next_attempt else 0, order_id),
    )


async def release_to_kitchen(
    conn: Conn, order_id: int, token: str, *, payment_method: str, payment_status: str, actor: str
) -> None:
    """An order paid (or switched to pay at pickup) becomes a received order."""
    await conn.execute(
        "UPDATE orders SET status = 'received', payment_method = %s, payment_status = %s,"
        " updated_at = now() WHERE id = %s",
        (payment_method, payment_status, order_id),
    )
    await record_status(conn, order_id, "awaiting_payment", "received", None, actor)
    await notify_order_changed(conn, token)


async def account_order_rows(conn: Conn, account_id: int, limit: int) -> list[dict[str, Any]]:
    """The account's orders as order view rows, newest first."""
    return await (
        await conn.execute(
            ORDER_VIEW_SQL
            + " WHERE o.account_id = %s ORDER BY o.created_at DESC, o.id DESC LIMIT %s",
            (account_id, limit),
        )
    ).fetchall()
