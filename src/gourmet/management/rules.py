"""The restaurant's rules as a manager changes them: settings, opening hours, slot capacity,
delivery zones and the pause switch.

Each use case is one transaction that starts by locking the restaurant's row, so changes to the
rules run one at a time. Checkout and the slot list read these rules from the database on every
request (no cache), so a change applies to the next checkout; only the pause switch is part of
the menu customers see, and it NOTIFYs ``menu_changed`` like any menu change.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import msgspec
import psycopg

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.management import repository as repo
from gourmet.management.errors import (
    InvalidValue,
    NameTaken,
    OverlappingHours,
    PrefixTaken,
    RestaurantNotSetUp,
    ZoneInUse,
    ZoneNotFound,
)
from gourmet.management.schemas import (
    Capacity,
    Fulfilment,
    OpeningHours,
    Pause,
    Period,
    RestaurantDetails,
    RestaurantSettings,
    RestaurantView,
    SpecialDay,
    SpecialDays,
    ZoneCreate,
    ZonePatch,
    ZoneView,
)
from gourmet.management.service import clean_text, given
from gourmet.menu.repository import notify_menu_changed

PREFIX = re.compile(r"[A-Z0-9-]+")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class RulesEditor:
    def __init__(self, pool: GuardedPool, on_change: Callable[[], None] = lambda: None) -> None:
        self._pool = pool
        # Told after each committed change of the rules, before this process hears the notice.
        self._on_change = on_change

    @asynccontextmanager
    async def _changing(self) -> AsyncIterator[Conn]:
        """A transaction holding the rules' lock; on commit, every process is told."""
        async with self._pool.connection() as conn, conn.transaction():
            await lock(conn)
            # The menu page shows the restaurant's details and hours: its cache reloads.
            await notify_menu_changed(conn)
            yield conn
        self._on_change()

    async def restaurant(self) -> RestaurantView:
        async with self._pool.connection() as conn:
            return await restaurant_view(conn)

    async def update_settings(self, data: RestaurantSettings) -> RestaurantView:
        async with self._changing() as conn:
            await repo.update_settings(
                conn,
                tax_rate_bp=data.tax_rate_bp,
                slot_minutes=data.slot_minutes,
                lead_minutes=data.lead_minutes,
                capacity_unit=data.capacity_unit,
                orders_at_once=data.orders_at_once,
            )
            return await restaurant_view(conn)

    async def update_details(self, data: RestaurantDetails) -> RestaurantView:
        name, address, phone = (" ".join(v.split()) for v in (data.name, data.address, data.phone))
        if not name:
            raise InvalidValue("The restaurant needs a name.", field="name")
        async with self._changing() as conn:
            await repo.update_details(conn, name=name, address=address, phone=phone)
            return await restaurant_view(conn)

    async def replace_hours(self, data: OpeningHours) -> RestaurantView:
        periods = check_hours(data.periods)
        async with self._changing() as conn:
            await repo.replace_hours(
                conn, [(p.weekday, p.opens_minute, p.closes_minute, p.fulfilment) for p in periods]
            )
            return await restaurant_view(conn)

    async def replace_special_days(self, data: SpecialDays) -> RestaurantView:
        days = check_special_days(data.days)
        async with self._changing() as conn:
            await repo.replace_special_days(
                conn,
                [(d.day, d.closed, d.opens_minute, d.closes_minute, d.message) for d in days],
            )
            return await restaurant_view(conn)

    async def set_capacity(self, fulfilment: Fulfilment, data: Capacity) -> RestaurantView:
        async with self._changing() as conn:
            await repo.set_capacity(conn, fulfilment, data.max_orders)
            return await restaurant_view(conn)

    async def pause(self, data: Pause) -> RestaurantView:
        """Stop (or restart) online ordering; customers see the message on the menu and get
        it with the 409 of a checkout."""
        async with self._changing() as conn:
            await repo.set_ordering_paused(conn, data.paused, data.message.strip())
            await notify_menu_changed(conn)
            return await restaurant_view(conn)

    # -- delivery zones -----------------------------------------------------------------------

    async def zones(self) -> list[ZoneView]:
        async with self._pool.connection() as conn:
            rows = await repo.zone_rows(conn)
        return [msgspec.convert(row, ZoneView) for row in rows]

    async def create_zone(self, data: ZoneCreate) -> ZoneView:
        name = clean_text(data.name, "name")
        prefixes = clean_prefixes(data.postcode_prefixes)
        async with self._changing() as conn:
            await check_zone(conn, None, name, prefixes)
            try:
                zone_id = await repo.insert_zone(
                    conn,
                    name=name,
                    prefixes=prefixes,
                    fee_cents=data.fee_cents,
                    min_order_cents=data.min_order_cents,
                )
            except psycopg.errors.UniqueViolation as exc:  # seeded outside the lock, say
                raise zone_name_taken(name) from exc
            return await zone_view(conn, zone_id)

    async def update_zone(self, zone_id: int, data: ZonePatch) -> ZoneView:
        changes = given(data)
        if "name" in changes:
            changes["name"] = clean_text(changes["name"], "name")
        if "postcode_prefixes" in changes:
            changes["postcode_prefixes"] = clean_prefixes(changes["postcode_prefixes"])
        async with self._changing() as conn:
            if not await repo.lock_zone(conn, zone_id):
                raise ZoneNotFound(f"There is no delivery zone {zone_id}.")
            await check_zone(conn, zone_id, changes.get("name"), changes.get("postcode_prefixes"))
            try:
                await repo.update_zone(conn, zone_id, changes)
            except psycopg.errors.UniqueViolation as exc:
                raise zone_name_taken(changes["name"]) from exc
            return await zone_view(conn, zone_id)

    async def delete_zone(self, zone_id: int) -> None:
        async with self._changing() as conn:
            if not await repo.lock_zone(conn, zone_id):
                raise ZoneNotFound(f"There is no delivery zone {zone_id}.")
            if await repo.zone_has_orders(conn, zone_id):
                raise ZoneInUse(
                    "Past orders were delivered to this zone and keep referring to it, so it "
                    "cannot be removed."
                )
            await repo.delete_zone(conn, zone_id)


# -- checks -------------------------------------------------------------------------------------


def check_hours(periods: list[Period]) -> list[Period]:
    """The periods, sorted, once each closes after it opens and none overlaps another."""
    for index, period in enumerate(periods):
        if period.closes_minute <= period.opens_minute:
            raise InvalidValue(
                f"A period on {WEEKDAYS[period.weekday]} closes ({clock(period.closes_minute)}) "
                f"before it opens ({clock(period.opens_minute)}). For hours past midnight, "
                "close at 24:00 and open the next day at 00:00.",
                field=f"periods[{index}].closes_minute",
            )
    for kind in ("pickup", "delivery"):  # "both" periods count for each
        applying = [(i, p) for i, p in enumerate(periods) if p.fulfilment in ("both", kind)]
        _check_overlaps(sorted(applying, key=lambda p: (p[1].weekday, p[1].opens_minute)))
    return sorted(periods, key=lambda p: (p.weekday, p.opens_minute, p.fulfilment))


def _check_overlaps(ordered: list[tuple[int, Period]]) -> None:
    for (_, earlier), (index, later) in itertools.pairwise(ordered):
        if earlier.weekday == later.weekday and later.opens_minute < earlier.closes_minute:
            raise OverlappingHours(
                f"On {WEEKDAYS[later.weekday]}, {clock(later.opens_minute)}-"
                f"{clock(later.closes_minute)} overlaps {clock(earlier.opens_minute)}-"
                f"{clock(earlier.closes_minute)}; merge them into one period.",
                field=f"periods[{index}]",
            )


def check_special_days(days: list[SpecialDay]) -> list[SpecialDay]:
    """The days, sorted, once each is given once and an open one has hours that make sense."""
    seen: set[date] = set()
    for index, day in enumerate(days):
        if day.day in seen:
            raise InvalidValue(f"{day.day} is listed twice.", field=f"days[{index}].day")
        seen.add(day.day)
        if day.closed:
            continue
        if day.opens_minute is None or day.closes_minute is None:
            raise InvalidValue(
                f"{day.day} is open: give its opens_minute and closes_minute (or closed: true).",
                field=f"days[{index}].opens_minute",
            )
        if day.closes_minute <= day.opens_minute:
            raise InvalidValue(
                f"On {day.day} the restaurant closes ({clock(day.closes_minute)}) before it "
                f"opens ({clock(day.opens_minute)}).",
                field=f"days[{index}].closes_minute",
            )
    return sorted(days, key=lambda d: d.day)


def clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def clean_prefixes(prefixes: Iterable[str]) -> list[str]:
    """Prefixes as checkout compares them (no spaces, upper case), without repeats."""
    cleaned: list[str] = []
    for index, prefix in enumerate(prefixes):
        value = "".join(prefix.split()).upper()
        if not PREFIX.fullmatch(value):
            raise InvalidValue(
                f"{prefix!r} is not a postcode prefix (letters, digits and '-' only).",
                field=f"postcode_prefixes[{index}]",
            )
        if value not in cleaned:
            cleaned.append(value)
    return cleaned


async def check_zone(
    conn: Conn, zone_id: int | None, name: str | None, prefixes: list[str] | None
) -> None:
    if name is not None and await repo.zone_name_taken(conn, name, zone_id):
        raise zone_name_taken(name)
    if prefixes:
        taken = await repo.prefixes_taken(conn, prefixes, zone_id)
        if taken:
            owners = ", ".join(f"{t['prefix']} ({t['zone']})" for t in taken)
            raise PrefixTaken(
                f"Other zones already deliver to {owners}; a postcode must fall in one zone.",
                field="postcode_prefixes",
                taken=[{"prefix": t["prefix"], "zone": t["zone"]} for t in taken],
            )


def zone_name_taken(name: str) -> NameTaken:
    return NameTaken(f"There is already a delivery zone named {name!r}.", field="name")


# -- reads inside a transaction -----------------------------------------------------------------


async def lock(conn: Conn) -> None:
    """Lock the rules for a change, and have every process told of it when it commits."""
    if not await repo.lock_restaurant(conn):
        raise RestaurantNotSetUp(
            "The restaurant has no settings yet; load them first (gourmet seed demo)."
        )
    await repo.notify_rules_changed(conn)


async def restaurant_view(conn: Conn) -> RestaurantView:
    row = await repo.restaurant_row(conn)
    if row is None:
        raise RestaurantNotSetUp(
            "The restaurant has no settings yet; load them first (gourmet seed demo)."
        )
    zones: list[dict[str, Any]] = await repo.zone_rows(conn)
    capacity = {"pickup": 0, "delivery": 0, **row.pop("capacity")}
    return msgspec.convert({**row, "capacity": capacity, "zones": zones}, RestaurantView)


async def zone_view(conn: Conn, zone_id: int) -> ZoneView:
    rows = await repo.zone_rows(conn, zone_id)
    return msgspec.convert(rows[0], ZoneView)
