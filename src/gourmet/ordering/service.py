"""Ordering use cases. Each one is a single transaction: it commits whole or leaves nothing."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from gourmet.db.types import Conn, Pool
from gourmet.menu import repository as menu_repository
from gourmet.ordering import repository as repo
from gourmet.ordering.errors import (
    AddressRequired,
    BelowMinimumOrder,
    IdempotencyKeyReused,
    ItemUnavailable,
    OrderingPaused,
    OutsideDeliveryZone,
    OutsideOpeningHours,
    SlotFull,
)
from gourmet.ordering.pricing import PricedCart, price_cart, tax_cents
from gourmet.ordering.schemas import (
    CheckoutRequest,
    Fulfilment,
    OrderView,
    Slot,
    StatusUpdate,
)
from gourmet.ordering.slots import SlotRules
from gourmet.ordering.workflow import RELEASING_STATUSES, check_transition
from gourmet.problems import NotFound, Problem

TOKEN_BYTES = 18  # 144 random bits: unguessable, and 24 URL-safe characters
ASAP_CANDIDATES = 48  # how many upcoming slots an ASAP order may fall into
OPEN_ORDERS_LIMIT = 500


class OrderingService:
    def __init__(
        self,
        pool: Pool,
        *,
        tz: Any,
        slot_days_ahead: int,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._pool = pool
        self._tz = tz
        self._slot_days_ahead = slot_days_ahead
        self._clock = clock or (lambda: datetime.now(UTC))

    # -- checkout -----------------------------------------------------------------------------

    async def checkout(
        self, request: CheckoutRequest, idempotency_key: str | None
    ) -> tuple[OrderView, bool]:
        """Place an order; return it and whether it is new (False: an idempotent replay)."""
        fingerprint = hashlib.sha256(msgspec.json.encode(request)).hexdigest()
        async with self._pool.connection() as conn:
            async with conn.transaction():
                if idempotency_key is not None and not await repo.claim_idempotency_key(
                    conn, idempotency_key, fingerprint
                ):
                    token = await self._replayed_token(conn, idempotency_key, fingerprint)
                    created = False
                else:
                    token = await self._place(conn, request, idempotency_key)
                    created = True
            view = await self._view(conn, token)
        return view, created

    async def _replayed_token(self, conn: Conn, key: str, fingerprint: str) -> str:
        claimed = await repo.claimed_request(conn, key)
        if claimed is None or claimed[1] is None:  # pragma: no cover - claims commit with orders
            raise Problem("This Idempotency-Key is still being processed; retry shortly.")
        if claimed[0] != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used for a different order. "
                "Use a new key for a new order."
            )
        return claimed[1]

    async def _place(self, conn: Conn, request: CheckoutRequest, key: str | None) -> str:
        rules = await repo.restaurant_rules(conn)
        if rules.ordering_paused:
            raise OrderingPaused(
                rules.pause_message or "We are not taking online orders right now."
            )
        items = await menu_repository.fetch_items(conn, {line.item_id for line in request.lines})
        cart = price_cart(request.lines, {item.id: item for item in items})
        zone_id, fee = await self._delivery_terms(conn, request, cart)
        slot_start = await self._reserve_slot(conn, request, rules.slot_minutes, rules.lead_minutes)
        short, sold_out = await repo.take_stock(conn, cart.quantities_by_item())
        if short:
            names = ", ".join(line.name for line in cart.lines if line.item_id in short)
            raise ItemUnavailable(
                f"Not enough left of {names}; lower the quantity or choose something else.",
                item_ids=short,
            )
        address = request.address if request.fulfilment == "delivery" else None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        order_id = await repo.insert_order(
            conn,
            repo.NewOrder(
                token=token,
                fulfilment=request.fulfilment,
                asap=request.slot is None,
                slot_start=slot_start,
                customer_name=request.customer.name.strip(),
                phone=request.customer.phone.strip(),
                email=request.customer.email,
                address_line=address.line1 if address else None,
                city=address.city if address else None,
                postcode=normalize_postcode(address.postcode) if address else None,
                zone_id=zone_id,
                notes=request.notes,
                payment_method=request.payment,
                cart=cart,
                delivery_fee_cents=fee,
                tax_cents=tax_cents(cart.subtotal_cents + fee, rules.tax_rate_bp),
            ),
            actor="customer",
        )
        if key is not None:
            await repo.attach_idempotency_key(conn, key, order_id)
        if sold_out:
            await menu_repository.notify_menu_changed(conn)
        await repo.notify_order_changed(conn, token)
        return token

    async def _delivery_terms(
        self, conn: Conn, request: CheckoutRequest, cart: PricedCart
    ) -> tuple[int | None, int]:
        if request.fulfilment == "pickup":
            return None, 0
        if request.address is None:
            raise AddressRequired("Delivery needs an address with a postcode.", field="address")
        postcode = normalize_postcode(request.address.postcode)
        zones = await repo.delivery_zones(conn)
        zone = match_zone(postcode, zones)
        if zone is None:
            raise OutsideDeliveryZone(
                f"We do not deliver to {request.address.postcode}. Pickup is always possible.",
                field="address.postcode",
            )
        if cart.subtotal_cents < zone.min_order_cents:
            missing = zone.min_order_cents - cart.subtotal_cents
            raise BelowMinimumOrder(
                f"Delivery to {zone.name} needs an order of at least "
                f"{format_cents(zone.min_order_cents)}; add {format_cents(missing)} more.",
                min_order_cents=zone.min_order_cents,
                missing_cents=missing,
            )
        return zone.id, zone.fee_cents

    async def _reserve_slot(
        self, conn: Conn, request: CheckoutRequest, slot_minutes: int, lead_minutes: int
    ) -> datetime:
        now = self._clock()
        slot_rules = await self._slot_rules(conn, slot_minutes, lead_minutes)
        starts = slot_rules.starts(now, self._slot_days_ahead)
        fulfilment = request.fulfilment
        capacity = await repo.slot_capacity(conn, fulfilment)
        if request.slot is not None:
            wanted = request.slot.astimezone(UTC) if request.slot.tzinfo else None
            if wanted is None or wanted not in starts:
                nxt = await self._next_free(conn, fulfilment, starts, capacity)
                raise OutsideOpeningHours(
                    "That time is not one of our slots (outside opening hours, too soon, or not "
                    "on a slot boundary). Pick a slot from /api/slots.",
                    next_free_slot=nxt,
                )
            if await repo.reserve_slot(conn, fulfilment, wanted, capacity):
                return wanted
            later = [s for s in starts if s > wanted]
            nxt = await self._next_free(conn, fulfilment, later, capacity)
            raise SlotFull(
                "That time slot is full."
                + (f" The next free slot starts at {self._local(nxt)}." if nxt else ""),
                next_free_slot=nxt,
            )
        if not slot_rules.is_open(now):
            nxt = await self._next_free(conn, fulfilment, starts, capacity)
            raise OutsideOpeningHours(
                "We are closed right now, so we cannot cook as soon as possible. "
                "Schedule your order for a later slot instead.",
                next_free_slot=nxt,
            )
        candidates = starts[:ASAP_CANDIDATES]
        booked = await repo.bookings(conn, fulfilment, candidates)
        for start in candidates:
            # Skip slots known to be full; reserve_slot stays the arbiter under races.
            if booked.get(start, 0) < capacity and await repo.reserve_slot(
                conn, fulfilment, start, capacity
            ):
                return start
        raise SlotFull("Every slot in the next hours is full; please try again later.")

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self._tz).strftime("%H:%M on %A %d %B")

    async def _slot_rules(self, conn: Conn, slot_minutes: int, lead_minutes: int) -> SlotRules:
        periods = await repo.opening_periods(conn)
        return SlotRules(periods, slot_minutes, lead_minutes, self._tz)

    async def _next_free(
        self, conn: Conn, fulfilment: Fulfilment, starts: Sequence[datetime], capacity: int
    ) -> datetime | None:
        candidates = list(starts[:ASAP_CANDIDATES])
        booked = await repo.bookings(conn, fulfilment, candidates)
        return next((s for s in candidates if booked.get(s, 0) < capacity), None)

    # -- slots --------------------------------------------------------------------------------

    async def slots(self, fulfilment: Fulfilment) -> list[Slot]:
        async with self._pool.connection() as conn:
            rules = await repo.restaurant_rules(conn)
            slot_rules = await self._slot_rules(conn, rules.slot_minutes, rules.lead_minutes)
            starts = slot_rules.starts(self._clock(), self._slot_days_ahead)
            capacity = await repo.slot_capacity(conn, fulfilment)
            booked = await repo.bookings(conn, fulfilment, starts)
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

    # -- reading and moving orders ------------------------------------------------------------

    async def order(self, token: str) -> OrderView:
        async with self._pool.connection() as conn:
            return await self._view(conn, token)

    async def open_orders(self) -> list[OrderView]:
        async with self._pool.connection() as conn:
            rows = await repo.open_order_rows(conn, OPEN_ORDERS_LIMIT)
        return [order_view(row) for row in rows]

    async def change_status(self, order_id: int, update: StatusUpdate, actor: str) -> OrderView:
        async with self._pool.connection() as conn:
            async with conn.transaction():
                row = await repo.lock_order(conn, order_id)
                if row is None:
                    raise NotFound(f"There is no order {order_id}.")
                check_transition(row["status"], update.status, row["fulfilment"], update.reason)
                reason = update.reason.strip() if update.reason else None
                await repo.set_status(
                    conn, order_id, update.status, reason if update.status == "rejected" else None
                )
                await repo.record_status(
                    conn, order_id, row["status"], update.status, reason, actor
                )
                if update.status in RELEASING_STATUSES:
                    await repo.release_slot(conn, row["fulfilment"], row["slot_start"])
                    if await repo.return_stock(conn, order_id):
                        await menu_repository.notify_menu_changed(conn)
                await repo.notify_order_changed(conn, row["token"])
            return await self._view(conn, row["token"])

    async def _view(self, conn: Conn, token: str) -> OrderView:
        row = await repo.order_view_row(conn, token)
        if row is None:
            raise NotFound(
                "There is no order with this tracking link. Check the link you were sent."
            )
        return order_view(row)


def order_view(row: dict[str, Any]) -> OrderView:
    address = (
        {"line1": row["address_line"], "postcode": row["postcode"], "city": row["city"] or ""}
        if row["address_line"]
        else None
    )
    return msgspec.convert(
        {
            "number": row["id"],
            "token": row["token"],
            "status": row["status"],
            "fulfilment": row["fulfilment"],
            "asap": row["asap"],
            "slot_start": row["slot_start"],
            "estimated_ready_at": row["slot_start"],
            "customer_name": row["customer_name"],
            "phone": row["phone"],
            "address": address,
            "notes": row["notes"],
            "payment": row["payment_method"],
            "totals": {
                "subtotal_cents": row["subtotal_cents"],
                "delivery_fee_cents": row["delivery_fee_cents"],
                "tax_cents": row["tax_cents"],
                "total_cents": row["total_cents"],
            },
            "lines": row["lines"],
            "history": row["history"] or [],
            "rejection_reason": row["rejection_reason"],
            "created_at": row["created_at"],
        },
        OrderView,
        from_attributes=True,
        strict=False,
    )


def normalize_postcode(postcode: str) -> str:
    return "".join(postcode.split()).upper()


def match_zone(postcode: str, zones: Sequence[repo.Zone]) -> repo.Zone | None:
    """The zone with the longest matching postcode prefix, if any."""
    best: tuple[int, repo.Zone] | None = None
    for zone in zones:
        for prefix in zone.prefixes:
            norm = normalize_postcode(prefix)
            if postcode.startswith(norm) and (best is None or len(norm) > best[0]):
                best = (len(norm), zone)
    return best[1] if best else None


def format_cents(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"
