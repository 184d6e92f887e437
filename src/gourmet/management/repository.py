"""SQL of the restaurant's rules as a manager changes them: settings, hours, capacity, zones.

These tables (restaurant, opening_hours, slot_capacity, delivery_zone) are written here and
nowhere else: the demo seed and the tests configure a restaurant through
:func:`configure_restaurant`; checkout only reads them. The menu's own SQL is in
``menu/repository.py``. Every change here first locks the restaurant's single row
(:func:`lock_restaurant`), so two managers' changes to the rules run one after the other and a
check made before a write (a postcode prefix already used, say) still holds when it is written.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from psycopg import sql

from gourmet.db.types import Conn
from gourmet.ordering.checkout.slots import OpeningPeriod

ZONE_COLUMNS = frozenset({"name", "postcode_prefixes", "fee_cents", "min_order_cents"})

_RESTAURANT_SQL = """
SELECT r.name, r.address, r.phone, r.tax_rate_bp, r.slot_minutes, r.lead_minutes,
    r.capacity_unit, r.orders_at_once, r.ordering_paused, r.pause_message,
    coalesce((SELECT json_agg(json_build_object('weekday', h.weekday,
        'opens_minute', h.opens_minute, 'closes_minute', h.closes_minute,
        'fulfilment', h.fulfilment)
        ORDER BY h.weekday, h.opens_minute, h.fulfilment) FROM opening_hours h), '[]') AS hours,
    coalesce((SELECT json_agg(json_build_object('day', s.day, 'closed', s.closed,
        'opens_minute', s.opens_minute, 'closes_minute', s.closes_minute,
        'message', s.message) ORDER BY s.day) FROM special_day s), '[]') AS special_days,
    coalesce((SELECT json_object_agg(c.fulfilment, c.max_orders) FROM slot_capacity c), '{}')
        AS capacity
FROM restaurant r
"""


async def restaurant_row(conn: Conn) -> dict[str, Any] | None:
    return await (await conn.execute(_RESTAURANT_SQL)).fetchone()


async def notify_rules_changed(conn: Conn) -> None:
    """Tell every process, on commit, that the rules changed (they hold slot lists)."""
    await conn.execute("SELECT pg_notify('rules_changed', '')")


async def lock_restaurant(conn: Conn) -> bool:
    """Lock the restaurant's row until the transaction ends; False when it is not set up."""
    row = await (await conn.execute("SELECT id FROM restaurant FOR UPDATE")).fetchone()
    return row is not None


async def update_settings(
    conn: Conn,
    *,
    tax_rate_bp: int,
    slot_minutes: int,
    lead_minutes: int,
    capacity_unit: str = "orders",
    orders_at_once: int | None = None,
) -> None:
    await conn.execute(
        "UPDATE restaurant SET tax_rate_bp = %s, slot_minutes = %s, lead_minutes = %s,"
        " capacity_unit = %s, orders_at_once = %s, updated_at = now()",
        (tax_rate_bp, slot_minutes, lead_minutes, capacity_unit, orders_at_once),
    )


async def update_details(conn: Conn, *, name: str, address: str, phone: str) -> None:
    await conn.execute(
        "UPDATE restaurant SET name = %s, address = %s, phone = %s, updated_at = now()",
        (name, address, phone),
    )


async def replace_hours(conn: Conn, periods: Sequence[tuple[int, int, int, str]]) -> None:
    """The week's opening periods, (weekday, opens_minute, closes_minute, fulfilment), replace
    the old."""
    await conn.execute("DELETE FROM opening_hours")
    if periods:
        await conn.execute(
            "INSERT INTO opening_hours (weekday, opens_minute, closes_minute, fulfilment)"
            " SELECT * FROM unnest(%s::smallint[], %s::smallint[], %s::smallint[], %s::text[])",
            (
                [p[0] for p in periods],
                [p[1] for p in periods],
                [p[2] for p in periods],
                [p[3] for p in periods],
            ),
        )


async def replace_special_days(
    conn: Conn, days: Sequence[tuple[date, bool, int | None, int | None, str]]
) -> None:
    """The special days, (day, closed, opens_minute, closes_minute, message), replace the old."""
    await conn.execute("DELETE FROM special_day")
    for day in days:
        await conn.execute(
            "INSERT INTO special_day (day, closed, opens_minute, closes_minute, message)"
            " VALUES (%s, %s, %s, %s, %s)",
            day,
        )


async def set_capacity(conn: Conn, fulfilment: str, max_orders: int) -> None:
    await conn.execute(
        "INSERT INTO slot_capacity (fulfilment, max_orders) VALUES (%s, %s)"
        " ON CONFLICT (fulfilment) DO UPDATE SET max_orders = excluded.max_orders",
        (fulfilment, max_orders),
    )


async def zone_rows(conn: Conn, zone_id: int | None = None) -> list[dict[str, Any]]:
    """Delivery zones, by name; all of them, or only ``zone_id``."""
    return await (
        await conn.execute(
            "SELECT id, name, postcode_prefixes, fee_cents, min_order_cents FROM delivery_zone"
            " WHERE %(id)s::bigint IS NULL OR id = %(id)s ORDER BY name, id",
            {"id": zone_id},
        )
    ).fetchall()


async def zone_name_taken(conn: Conn, name: str, except_id: int | None) -> bool:
    row = await (
        await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM delivery_zone WHERE lower(name) = lower(%s)"
            " AND id IS DISTINCT FROM %s) AS taken",
            (name, except_id),
        )
    ).fetchone()
    return bool(row and row["taken"])


async def prefixes_taken(
    conn: Conn, prefixes: Collection[str], except_id: int | None
) -> list[dict[str, Any]]:
    """Which of these (normalized) prefixes other zones already have: [{prefix, zone}]."""
    return await (
        await conn.execute(
            "SELECT DISTINCT upper(regexp_replace(p, '\\s', '', 'g')) AS prefix, z.name AS zone"
            " FROM delivery_zone z CROSS JOIN LATERAL unnest(z.postcode_prefixes) AS p"
            " WHERE upper(regexp_replace(p, '\\s', '', 'g')) = ANY(%s)"
            " AND z.id IS DISTINCT FROM %s ORDER BY 1, 2",
            (list(prefixes), except_id),
        )
    ).fetchall()


async def insert_zone(
    conn: Conn, *, name: str, prefixes: Sequence[str], fee_cents: int, min_order_cents: int
) -> int:
    row = await (
        await conn.execute(
            "INSERT INTO delivery_zone (name, postcode_prefixes, fee_cents, min_order_cents)"
            " VALUES (%s, %s, %s, %s) RETURNING id",
            (name, list(prefixes), fee_cents, min_order_cents),
        )
    ).fetchone()
    assert row is not None
    return int(row["id"])


async def update_zone(conn: Conn, zone_id: int, changes: Mapping[str, object]) -> bool:
    """Change these columns of the zone; False when there is no such zone."""
    if not changes:
        return await lock_zone(conn, zone_id)
    unknown = set(changes) - ZONE_COLUMNS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    query = sql.SQL("UPDATE delivery_zone SET {} WHERE id = {} RETURNING id").format(
        sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column))
            for column in changes
        ),
        sql.Placeholder("_id"),
    )
    cursor = await conn.execute(query, {**changes, "_id": zone_id})
    return await cursor.fetchone() is not None


async def lock_zone(conn: Conn, zone_id: int) -> bool:
    """Lock the zone; an order being placed in it (its foreign key holds a share lock on the
    zone) finishes first, so :func:`zone_has_orders` sees it."""
    cursor = await conn.execute("SELECT id FROM delivery_zone WHERE id = %s FOR UPDATE", (zone_id,))
    return await cursor.fetchone() is not None


async def zone_has_orders(conn: Conn, zone_id: int) -> bool:
    row = await (
        await conn.execute(
            "SELECT EXISTS (SELECT 1 FROM orders WHERE zone_id = %s) AS used", (zone_id,)
        )
    ).fetchone()
    return bool(row and row["used"])


async def delete_zone(conn: Conn, zone_id: int) -> None:
    await conn.execute("DELETE FROM delivery_zone WHERE id = %s", (zone_id,))


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
