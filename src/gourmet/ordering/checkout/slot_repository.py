"""All SQL of taking orders into slots: the restaurant's rules as checkout reads them (one
statement), bookings per slot, and giving back a place. A place is taken by the order's own
insert (``take_slot_place``, migrations 0008 and 0016, called by ordering/repository.py)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from gourmet.db.types import Conn, Cursor
from gourmet.ordering.checkout.slots import OpeningPeriod, SpecialDay
from gourmet.ordering.schemas import Fulfilment
from gourmet.ordering.workflow import DUE_SOON, TO_MAKE


@dataclass(frozen=True)
class RestaurantRules:
    tax_rate_bp: int
    slot_minutes: int
    lead_minutes: int
    ordering_paused: bool
    pause_message: str
    capacity_unit: str = "orders"  # what a slot's capacity counts: orders, or items
    # Orders the kitchen makes side by side; None: quotes do not count the backlog.
    orders_at_once: int | None = None
    # The lead time without busy mode's minutes: an item's make time when it has none of its
    # own (busy mode delays orders; it does not make a dish take longer to cook).
    usual_lead_minutes: int | None = None
    # Make-minutes of the orders still to make that are due within the next two hours.
    backlog_minutes: int = 0

    @property
    def default_prep_minutes(self) -> int:
        """An item's make time when it has none of its own: the usual lead time."""
        return self.lead_minutes if self.usual_lead_minutes is None else self.usual_lead_minutes

    def quote_minutes(self, make_minutes: int | None = None) -> int:
        """How soon an order can be ready, in minutes: once the kitchen is free for it (the
        orders ahead, their make-minutes shared among the orders it makes at once) and it is
        made (``make_minutes``; the lead time when not known yet, a quote before the cart),
        and never sooner than the lead time."""
        own = self.default_prep_minutes if make_minutes is None else make_minutes
        return max(self.lead_minutes, math.ceil(self.ahead_minutes + own))

    @property
    def ahead_minutes(self) -> float:
        """How long the orders ahead keep the kitchen busy (0 when quotes do not count them)."""
        return self.backlog_minutes / self.orders_at_once if self.orders_at_once else 0.0


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
    special_days: tuple[SpecialDay, ...]
    capacity: int
    zones: tuple[Zone, ...]


_CONTEXT_SQL = """
SELECT r.tax_rate_bp, r.slot_minutes, r.ordering_paused, r.pause_message, r.capacity_unit,
    r.orders_at_once,
    -- The kitchen's backlog, when quotes count it: what it still has to make of the orders
    -- due soon (pre-orders for later are made later).
    CASE WHEN r.orders_at_once IS NULL THEN 0 ELSE (
        SELECT coalesce(sum(o.make_minutes), 0) FROM orders o
        WHERE o.status = ANY(%(to_make)s)
        AND coalesce(o.estimated_ready_at, o.slot_start) < now() + %(due_soon)s) END
        AS backlog_minutes,
    -- The kitchen's busy mode adds to the lead time while it lasts.
    r.lead_minutes + coalesce((SELECT b.extra_minutes FROM busy_mode b
        WHERE b.busy_until > now()), 0) AS lead_minutes,
    r.lead_minutes AS usual_lead_minutes,
    coalesce((SELECT json_agg(json_build_object('weekday', h.weekday,
        'opens_minute', h.opens_minute, 'closes_minute', h.closes_minute))
        FROM opening_hours h WHERE h.fulfilment IN ('both', %(fulfilment)s)), '[]') AS periods,
    coalesce((SELECT json_agg(json_build_object('day', s.day, 'closed', s.closed,
        'opens_minute', s.opens_minute, 'closes_minute', s.closes_minute,
        'message', s.message)) FROM special_day s WHERE s.day >= current_date - 1), '[]')
        AS special_days,
    coalesce((SELECT c.max_orders FROM slot_capacity c WHERE c.fulfilment = %(fulfilment)s), 0)
        AS capacity,
    coalesce((SELECT json_agg(json_build_object('id', z.id, 'name', z.name,
        'prefixes', z.postcode_prefixes, 'fee_cents', z.fee_cents,
        'min_order_cents', z.min_order_cents)) FROM delivery_zone z), '[]') AS zones
FROM restaurant r
"""


async def ordering_context(conn: Conn, fulfilment: Fulfilment) -> OrderingContext:
    return await read_ordering_context(await send_ordering_context(conn, fulfilment))


async def send_ordering_context(conn: Conn, fulfilment: Fulfilment) -> Cursor:
    """The rules' read, sent: in a pipeline it travels with the statements around it."""
    return await conn.execute(
        _CONTEXT_SQL, {"fulfilment": fulfilment, "to_make": list(TO_MAKE), "due_soon": DUE_SOON}
    )


async def read_ordering_context(sent: Cursor) -> OrderingContext:
    row = await sent.fetchone()
    if row is None:
        rules = RestaurantRules(0, 15, 20, True, "The restaurant is not set up yet.")
        return OrderingContext(rules, (), (), 0, ())
    return OrderingContext(
        rules=RestaurantRules(
            tax_rate_bp=row["tax_rate_bp"],
            slot_minutes=row["slot_minutes"],
            lead_minutes=row["lead_minutes"],
            ordering_paused=row["ordering_paused"],
            pause_message=row["pause_message"],
            capacity_unit=row["capacity_unit"],
            orders_at_once=row["orders_at_once"],
            usual_lead_minutes=row["usual_lead_minutes"],
            backlog_minutes=row["backlog_minutes"],
        ),
        periods=tuple(OpeningPeriod(**p) for p in row["periods"]),
        special_days=tuple(
            SpecialDay(**{**s, "day": date.fromisoformat(s["day"])}) for s in row["special_days"]
        ),
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


# take_slot_place (migration 0008) found no candidate with a place left.
NO_PLACE_LEFT = "GR001"


def no_place_left(error: psycopg.Error) -> bool:
    """Whether ``error`` is the order's insert finding every slot it may take full."""
    return error.sqlstate == NO_PLACE_LEFT


async def release_slot(
    conn: Conn, fulfilment: Fulfilment, start: datetime, weight: int = 1
) -> None:
    """Give back the ``weight`` places an order took in its slot."""
    await conn.execute(
        "UPDATE slot_booking SET booked = greatest(booked - %s, 0)"
        " WHERE fulfilment = %s AND slot_start = %s",
        (weight, fulfilment, start),
    )
