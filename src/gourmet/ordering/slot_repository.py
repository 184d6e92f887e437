"""All SQL of taking orders into slots: the restaurant's rules as checkout reads them (one
statement), bookings per slot, and taking or giving back a place in one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gourmet.db.types import Conn
from gourmet.ordering.schemas import Fulfilment
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
