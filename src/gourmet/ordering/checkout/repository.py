"""All SQL of taking an order: the order's insert (with its place in a slot, its lines, its first
history entry and its confirmation) and the idempotency keys that make a retried checkout safe.
Slots and the restaurant's rules as checkout reads them are in ``slot_repository.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Jsonb

from gourmet.db.types import Conn, Cursor
from gourmet.ordering.checkout.pricing import PricedCart
from gourmet.ordering.schemas import Fulfilment, OrderStatus, PaymentMethod, PaymentStatus


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
    payment_method: PaymentMethod
    cart: PricedCart
    delivery_fee_cents: int
    tax_cents: int
    tip_cents: int = 0
    status: OrderStatus = "received"
    payment_status: PaymentStatus = "not_required"
    account_id: int | None = None  # the signed-in customer's account; None for a guest
    entered_by: str | None = None  # the staff member who took it by phone; None: online
    note: str | None = None  # on its first history entry
    slot_weight: int = 1  # the places of its slot it takes: 1, or its items (capacity_unit)
    make_minutes: int = 0  # the kitchen's minutes to make it: its longest item's prep time


async def send_time_limit(conn: Conn, seconds: float) -> None:
    """Bound each statement of this transaction to ``seconds`` (``SET LOCAL statement_timeout``,
    gone with the transaction, so a pooler's next client never inherits it): a checkout that
    waits on a slot's lock past its client's time is cancelled, never committed late."""
    await conn.execute(
        "SELECT set_config('statement_timeout', %s, true)", (str(max(int(seconds * 1000), 1)),)
    )


async def send_claim(conn: Conn, key: str, fingerprint: str) -> Cursor:
    """Claim ``key`` for this transaction; :func:`claimed` reads whether it was taken (False:
    another committed request owns it). Sent, not awaited: in a pipeline it travels with the
    reads that follow.

    A concurrent transaction holding the same key makes this INSERT wait on the primary key
    until that transaction ends: on commit we see the conflict, on rollback we take the key.
    """
    return await conn.execute(
        "INSERT INTO checkout_request (idempotency_key, fingerprint) VALUES (%s, %s)"
        " ON CONFLICT DO NOTHING RETURNING idempotency_key",
        (key, fingerprint),
    )


async def claimed(sent: Cursor) -> bool:
    return await sent.fetchone() is not None


async def prune_idempotency_keys(conn: Conn, older_than: timedelta, batch: int) -> int:
    """Delete up to ``batch`` of the oldest keys claimed before ``older_than`` ago; return how
    many. Rows another process is pruning (or a checkout is reading) are skipped, not waited
    for, so several processes prune side by side without blocking each other or a checkout."""
    cursor = await conn.execute(
        "DELETE FROM checkout_request WHERE idempotency_key IN ("
        " SELECT idempotency_key FROM checkout_request WHERE created_at < now() - %s"
        " ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED)",
        (older_than, batch),
    )
    return cursor.rowcount


async def prune_payment_events(conn: Conn, older_than: timedelta, batch: int) -> int:
    """Delete up to ``batch`` of the card provider's events handled before ``older_than`` ago
    (Stripe stops delivering an event again after three days); return how many."""
    cursor = await conn.execute(
        "DELETE FROM stripe_event WHERE id IN ("
        " SELECT id FROM stripe_event WHERE received_at < now() - %s"
        " ORDER BY received_at LIMIT %s FOR UPDATE SKIP LOCKED)",
        (older_than, batch),
    )
    return cursor.rowcount


async def claimed_request(conn: Conn, key: str) -> tuple[str, str | None] | None:
    row = await (
        await conn.execute(
            "SELECT c.fingerprint, o.token FROM checkout_request c"
            " LEFT JOIN orders o ON o.id = c.order_id WHERE c.idempotency_key = %s",
            (key,),
        )
    ).fetchone()
    return (row["fingerprint"], row["token"]) if row else None


# The order with its place in a slot (take_slot_place, migrations 0008 and 0016: the first with
# room), its lines and options, its first history entry, the idempotency key's link, the
# customer's confirmation email (when mail is on) and the notification, in one statement (one
# round trip). Every CTE that writes runs exactly once.
_INSERT_ORDER_SQL = """
WITH new_order AS (
    INSERT INTO orders (token, status, fulfilment, asap, slot_start, customer_name, phone, email,
        address_line, city, postcode, zone_id, notes, payment_method, payment_status,
        subtotal_cents, delivery_fee_cents, tax_cents, tip_cents, total_cents, account_id,
        channel, entered_by, slot_weight, make_minutes)
    VALUES (%(token)s, %(status)s, %(fulfilment)s, %(asap)s,
        take_slot_place(%(fulfilment)s, %(candidates)s::timestamptz[], %(capacity)s,
            %(weight)s),
        %(customer_name)s,
        %(phone)s, %(email)s, %(address_line)s, %(city)s, %(postcode)s, %(zone_id)s,
        %(notes)s, %(payment_method)s, %(payment_status)s, %(subtotal)s, %(fee)s, %(tax)s,
        %(tip)s, %(total)s, %(account_id)s, %(channel)s, %(entered_by)s, %(weight)s,
        %(make_minutes)s)
    RETURNING id, created_at, slot_start
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
    INSERT INTO order_status_history (order_id, from_status, to_status, actor, reason, at)
    SELECT id, NULL, %(status)s, %(actor)s, %(note)s, created_at FROM new_order
),
linked_key AS (
    UPDATE checkout_request SET order_id = (SELECT id FROM new_order)
    WHERE idempotency_key = %(key)s
),
confirmation AS (
    INSERT INTO outbox (kind, event_key, order_id, payload)
    SELECT 'email', 'email:' || id || ':confirmed', id, '{"event": "confirmed"}'::jsonb
    FROM new_order WHERE %(mail)s AND %(email)s::text IS NOT NULL AND %(status)s = 'received'
),
notified AS (SELECT pg_notify('order_changed', %(token)s || ':1') AS sent)
SELECT id, created_at, slot_start FROM new_order, notified
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


async def send_insert_order(
    conn: Conn,
    order: NewOrder,
    lines: list[dict[str, Any]],
    key: str | None,
    actor: str,
    candidates: list[datetime],
    capacity: int,
    *,
    mail: bool = False,
) -> Cursor:
    """Store the order in the first of ``candidates`` with a place left (``order.slot_start``
    is not used); :func:`read_inserted` reads its number, creation time and slot. With no place
    left the statement fails with ``no_place_left`` (slot_repository.py). Sent, not awaited:
    in a pipeline the COMMIT travels with it."""
    subtotal = order.cart.subtotal_cents
    return await conn.execute(
        _INSERT_ORDER_SQL,
        {
            "token": order.token,
            "status": order.status,
            "payment_status": order.payment_status,
            "fulfilment": order.fulfilment,
            "asap": order.asap,
            "candidates": candidates,
            "capacity": capacity,
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
            "tip": order.tip_cents,
            "total": subtotal + order.delivery_fee_cents + order.tax_cents + order.tip_cents,
            "lines": Jsonb(lines),
            "key": key,
            "actor": actor,
            "account_id": order.account_id,
            "mail": mail,
            "channel": "phone" if order.entered_by else "online",
            "entered_by": order.entered_by,
            "note": order.note,
            "weight": order.slot_weight,
            "make_minutes": order.make_minutes,
        },
    )


async def read_inserted(sent: Cursor) -> tuple[int, datetime, datetime]:
    row = await sent.fetchone()
    assert row is not None, "the insert returns its row or fails"
    return row["id"], row["created_at"], row["slot_start"]
