"""Which slot an order takes: the one asked for, or the next ones with a place, checked
against the opening hours, special days and lead time; the slot lists customers choose from,
held in memory until an order or a rule changes them (slot_cache.py); and the next free slot
named when none is left."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.ordering.checkout import slot_repository as slot_repo
from gourmet.ordering.checkout.placed import in_utc
from gourmet.ordering.checkout.slot_cache import SlotCache
from gourmet.ordering.checkout.slots import SlotRules
from gourmet.ordering.errors import OutsideOpeningHours, SlotFull
from gourmet.ordering.schemas import AsapQuote, CheckoutRequest, Fulfilment, Slot
from gourmet.problems import Problem

ASAP_CANDIDATES = 48  # how many upcoming slots an ASAP order may fall into


class SlotChoice:
    def __init__(
        self,
        pool: GuardedPool,
        *,
        tz: Any,
        days_ahead: int,
        cached: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._pool = pool
        self._tz = tz
        self._days_ahead = days_ahead
        self._clock = clock or (lambda: datetime.now(UTC))
        self.cache = SlotCache(self._read_slots, enabled=cached)
        # Whether today is a closed special day, and how soon an order can be ready (minutes),
        # as of the last slot list read (held with it).
        self._closed_today: dict[Fulfilment, str | None] = {}
        self._rules: dict[Fulfilment, slot_repo.RestaurantRules] = {}

    async def candidates(
        self,
        conn: Conn,
        request: CheckoutRequest,
        context: slot_repo.OrderingContext,
        make_minutes: int | None = None,
    ) -> list[datetime]:
        """The slots this order may take, best first: the one asked for, or the next ones.
        None starts sooner than the kitchen can have it ready (its backlog and the order's own
        ``make_minutes``)."""
        now = self._clock()
        slot_rules = self._slot_rules(context, make_minutes)
        days = self._days_ahead
        if request.slot is not None:
            wanted = in_utc(request.slot)
            if wanted is None or not slot_rules.is_start(wanted, now, days):
                starts = slot_rules.starts(now, days, limit=ASAP_CANDIDATES)
                nxt = await self._next_free(conn, request.fulfilment, starts, context.capacity)
                raise OutsideOpeningHours(
                    "That time is not one of our slots (outside opening hours, too soon, or not "
                    "on a slot boundary). Pick a slot from /api/slots.",
                    next_free_slot=nxt,
                )
            return [wanted]
        starts = slot_rules.starts(now, days, limit=ASAP_CANDIDATES)
        if not slot_rules.is_open(now):
            nxt = await self._next_free(conn, request.fulfilment, starts, context.capacity)
            holiday = slot_rules.closed_today(now)
            raise OutsideOpeningHours(
                (f"Closed today: {holiday.message}. " if holiday and holiday.message else "")
                + "We are closed right now, so we cannot cook as soon as possible. "
                "Schedule your order for a later slot instead.",
                next_free_slot=nxt,
            )
        if not starts:
            raise SlotFull("Every slot in the next hours is full; please try again later.")
        return starts

    async def no_place_left(self, request: CheckoutRequest) -> Problem:
        """The answer when none of the order's slots had a place left: the next free one."""
        async with self._pool.connection() as conn:
            context = await slot_repo.ordering_context(conn, request.fulfilment)
            slot_rules = self._slot_rules(context)
            if request.slot is None:
                return SlotFull("Every slot in the next hours is full; please try again later.")
            wanted = request.slot.astimezone(UTC)
            later = slot_rules.starts(
                wanted + timedelta(seconds=1), self._days_ahead, limit=ASAP_CANDIDATES
            )
            nxt = await self._next_free(conn, request.fulfilment, later, context.capacity)
        return SlotFull(
            "That time slot is full."
            + (f" The next free slot starts at {self._local(nxt)}." if nxt else ""),
            next_free_slot=nxt,
        )

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self._tz).strftime("%H:%M on %A %d %B")

    def _slot_rules(
        self, context: slot_repo.OrderingContext, make_minutes: int | None = None
    ) -> SlotRules:
        rules = context.rules
        special = {day.day: day for day in context.special_days}
        lead = rules.quote_minutes(make_minutes)  # the lead time, or longer when busy
        return SlotRules(context.periods, rules.slot_minutes, lead, self._tz, special)

    async def _next_free(
        self, conn: Conn, fulfilment: Fulfilment, starts: Sequence[datetime], capacity: int
    ) -> datetime | None:
        candidates = list(starts[:ASAP_CANDIDATES])
        booked = await slot_repo.bookings(conn, fulfilment, candidates)
        return next((s for s in candidates if booked.get(s, 0) < capacity), None)

    async def slots(self, fulfilment: Fulfilment) -> list[Slot]:
        return await self.cache.slots(fulfilment)

    def closed_today(self, fulfilment: Fulfilment) -> str | None:
        return self._closed_today.get(fulfilment)

    def rules(self, fulfilment: Fulfilment) -> slot_repo.RestaurantRules | None:
        """The rules as of the last slot list read."""
        return self._rules.get(fulfilment)

    def asap_quote(self, fulfilment: Fulfilment) -> AsapQuote | None:
        rules = self._rules.get(fulfilment)
        if rules is None:
            return None
        return AsapQuote(
            lead_minutes=rules.lead_minutes,
            ahead_minutes=round(rules.ahead_minutes, 2),
            default_prep_minutes=rules.default_prep_minutes,
        )

    async def _read_slots(self, fulfilment: Fulfilment) -> list[Slot]:
        async with self._pool.connection() as conn:
            context = await slot_repo.ordering_context(conn, fulfilment)
            slot_rules = self._slot_rules(context)
            starts = slot_rules.starts(self._clock(), self._days_ahead)
            booked = await slot_repo.bookings(conn, fulfilment, starts)
        holiday = slot_rules.closed_today(self._clock())
        self._closed_today[fulfilment] = holiday.message if holiday else None
        self._rules[fulfilment] = context.rules
        rules, capacity = context.rules, context.capacity
        return [
            Slot(
                start=s,
                end=s + slot_rules.slot_length,
                capacity=capacity,
                remaining=max(capacity - booked.get(s, 0), 0),
                available=booked.get(s, 0) < capacity and not rules.ordering_paused,
            )
            for s in starts
        ]
