"""Ordering use cases. Each one is a single transaction: it commits whole or leaves nothing."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import psycopg

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repository
from gourmet.money import Money
from gourmet.ordering import repository as repo
from gourmet.ordering import slot_repository as slot_repo
from gourmet.ordering.delivery import delivery_terms, normalize_postcode
from gourmet.ordering.errors import (
    CardTokenRequired,
    IdempotencyKeyReused,
    ItemUnavailable,
    MenuChanged,
    OrderingPaused,
    OutsideOpeningHours,
    SlotFull,
)
from gourmet.ordering.payment import PaymentService
from gourmet.ordering.pricing import price_cart, tax_cents
from gourmet.ordering.schemas import (
    CheckoutRequest,
    Fulfilment,
    KitchenCard,
    OrderView,
    Slot,
    StatusUpdate,
)
from gourmet.ordering.slot_cache import SlotCache
from gourmet.ordering.slots import SlotRules
from gourmet.ordering.tracking import OrderBook
from gourmet.ordering.views import new_order_view, order_view
from gourmet.ordering.workflow import (
    RELEASING_STATUSES,
    check_transition,
    next_status_options,
)
from gourmet.problems import NotFound, Problem
from gourmet.telemetry import metrics

TOKEN_BYTES = 18  # 144 random bits: unguessable, and 24 URL-safe characters
ASAP_CANDIDATES = 48  # how many upcoming slots an ASAP order may fall into
ASAP_RETRIES = 5  # a lost race for a slot's last place retries with the next slots
OPEN_ORDERS_LIMIT = 500
ACCOUNT_ORDERS_LIMIT = 50  # an account's history, newest first


class OrderingService:
    def __init__(
        self,
        pool: GuardedPool,
        book: OrderBook,
        *,
        tz: Any,
        slot_days_ahead: int,
        money: Money,
        payments: PaymentService | None = None,
        slots_cached: bool = True,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._pool = pool
        self._book = book
        self._payments = payments
        self._tz = tz
        self._slot_days_ahead = slot_days_ahead
        self._money = money
        self._clock = clock or (lambda: datetime.now(UTC))
        # Slot lists held until an order or a rule changes them (slot_cache.py); the hub feeds
        # it the other processes' changes.
        self.slot_cache = SlotCache(self._read_slots, enabled=slots_cached)

    # -- checkout -----------------------------------------------------------------------------

    async def checkout(
        self, request: CheckoutRequest, idempotency_key: str | None, account_id: int | None = None
    ) -> tuple[OrderView, bool]:
        """Place an order; return it and whether it is new (False: an idempotent replay).
        ``account_id`` is the signed-in customer's account the order is kept under, if any."""
        fingerprint = hashlib.sha256(msgspec.json.encode(request)).hexdigest()
        if request.payment == "card" and (request.card_token is None or self._payments is None):
            raise CardTokenRequired(
                "Paying by card needs the card form to be filled in (a card_token)."
                if self._payments is not None
                else "Card payments are not set up; choose pay at pickup.",
                field="card_token",
            )
        try:
            async with self._pool.connection() as conn, conn.transaction():
                if idempotency_key is not None and not await repo.claim_idempotency_key(
                    conn, idempotency_key, fingerprint
                ):
                    token = await self._replayed_token(conn, idempotency_key, fingerprint)
                    view, created = await self._view(conn, token), False
                else:
                    view, created = (
                        await self._place(conn, request, idempotency_key, account_id),
                        True,
                    )
        except psycopg.errors.ForeignKeyViolation as exc:
            # A manager deleted an option or zone between our read and our insert: nothing
            # was written (the transaction rolled back); the customer reviews the cart.
            metrics.ORDERS_REJECTED.labels(MenuChanged.slug).inc()
            raise MenuChanged(
                "Something in your order was just taken off the menu. Please check your cart "
                "and order again."
            ) from exc
        except Problem as problem:
            metrics.ORDERS_REJECTED.labels(problem.type_slug).inc()
            raise
        if created:
            metrics.ORDERS_PLACED.labels(request.fulfilment).inc()
            self._book.remember(view)
            self.slot_cache.forget()  # a place was taken
        if view.status == "awaiting_payment" and view.payment_status != "declined":
            # After the commit: the provider is called with no connection held. A replayed
            # request retries a payment that failed, with the same key (never a double charge).
            assert self._payments is not None
            assert request.card_token is not None
            await self._payments.pay(view.token, request.card_token)
            view = await self.order(view.token)
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

    async def _place(
        self, conn: Conn, request: CheckoutRequest, key: str | None, account_id: int | None
    ) -> OrderView:
        """Validate, price, reserve and store; return the new order's view."""
        context = await slot_repo.ordering_context(conn, request.fulfilment)
        rules = context.rules
        if rules.ordering_paused:
            raise OrderingPaused(
                rules.pause_message or "We are not taking online orders right now."
            )
        items, tracked = await menu_repository.fetch_items_and_tracking(
            conn, {line.item_id for line in request.lines}
        )
        cart = price_cart(request.lines, {item.id: item for item in items})
        zone, fee = delivery_terms(request, cart, context.zones, self._money)
        slot_start = await self._reserve_slot(conn, request, context)
        quantities = cart.quantities_by_item()
        short, sold_out = await menu_repository.take_stock(
            conn, {item_id: qty for item_id, qty in quantities.items() if item_id in tracked}
        )
        if short:
            names = ", ".join(line.name for line in cart.lines if line.item_id in short)
            raise ItemUnavailable(
                f"Not enough left of {names}; lower the quantity or choose something else.",
                item_ids=short,
            )
        address = request.address if request.fulfilment == "delivery" else None
        by_card = request.payment == "card"
        new_order = repo.NewOrder(
            status="awaiting_payment" if by_card else "received",
            payment_status="pending" if by_card else "not_required",
            token=secrets.token_urlsafe(TOKEN_BYTES),
            fulfilment=request.fulfilment,
            asap=request.slot is None,
            slot_start=slot_start,
            customer_name=request.customer.name.strip(),
            phone=request.customer.phone.strip(),
            email=request.customer.email,
            address_line=address.line1 if address else None,
            city=address.city if address else None,
            postcode=normalize_postcode(address.postcode) if address else None,
            zone_id=zone.id if zone else None,
            notes=request.notes,
            payment_method=request.payment,
            cart=cart,
            delivery_fee_cents=fee,
            tax_cents=tax_cents(cart.subtotal_cents + fee, rules.tax_rate_bp),
            account_id=account_id,
        )
        lines = repo.line_documents(cart)
        number, created_at = await repo.insert_order(conn, new_order, lines, key, "customer")
        if sold_out:
            await menu_repository.notify_menu_changed(conn)
        return new_order_view(new_order, number, created_at, lines)

    async def _reserve_slot(
        self, conn: Conn, request: CheckoutRequest, context: slot_repo.OrderingContext
    ) -> datetime:
        now = self._clock()
        slot_rules = self._slot_rules(context)
        days = self._slot_days_ahead
        fulfilment, capacity = request.fulfilment, context.capacity
        if request.slot is not None:
            wanted = request.slot.astimezone(UTC) if request.slot.tzinfo else None
            if wanted is None or not slot_rules.is_start(wanted, now, days):
                starts = slot_rules.starts(now, days, limit=ASAP_CANDIDATES)
                nxt = await self._next_free(conn, fulfilment, starts, capacity)
                raise OutsideOpeningHours(
                    "That time is not one of our slots (outside opening hours, too soon, or not "
                    "on a slot boundary). Pick a slot from /api/slots.",
                    next_free_slot=nxt,
                )
            if await slot_repo.reserve_slot(conn, fulfilment, wanted, capacity):
                return wanted
            later = slot_rules.starts(wanted + timedelta(seconds=1), days, limit=ASAP_CANDIDATES)
            nxt = await self._next_free(conn, fulfilment, later, capacity)
            raise SlotFull(
                "That time slot is full."
                + (f" The next free slot starts at {self._local(nxt)}." if nxt else ""),
                next_free_slot=nxt,
            )
        starts = slot_rules.starts(now, days, limit=ASAP_CANDIDATES)
        if not slot_rules.is_open(now):
            nxt = await self._next_free(conn, fulfilment, starts, capacity)
            raise OutsideOpeningHours(
                "We are closed right now, so we cannot cook as soon as possible. "
                "Schedule your order for a later slot instead.",
                next_free_slot=nxt,
            )
        for _ in range(ASAP_RETRIES):
            start = await slot_repo.reserve_first_free(conn, fulfilment, starts, capacity)
            if start is not None:
                return start
            if await self._next_free(conn, fulfilment, starts, capacity) is None:
                break  # truly full, not just a lost race
        raise SlotFull("Every slot in the next hours is full; please try again later.")

    def _local(self, moment: datetime) -> str:
        return moment.astimezone(self._tz).strftime("%H:%M on %A %d %B")

    def _slot_rules(self, context: slot_repo.OrderingContext) -> SlotRules:
        rules = context.rules
        return SlotRules(context.periods, rules.slot_minutes, rules.lead_minutes, self._tz)

    async def _next_free(
        self, conn: Conn, fulfilment: Fulfilment, starts: Sequence[datetime], capacity: int
    ) -> datetime | None:
        candidates = list(starts[:ASAP_CANDIDATES])
        booked = await slot_repo.bookings(conn, fulfilment, candidates)
        return next((s for s in candidates if booked.get(s, 0) < capacity), None)

    # -- slots --------------------------------------------------------------------------------

    async def slots(self, fulfilment: Fulfilment) -> list[Slot]:
        """Upcoming slots and their places left, from memory until something changes them."""
        return await self.slot_cache.slots(fulfilment)

    def forget_slots(self) -> None:
        """The restaurant's rules changed in this process: slot lists are read again."""
        self.slot_cache.forget()

    async def _read_slots(self, fulfilment: Fulfilment) -> list[Slot]:
        async with self._pool.connection() as conn:
            context = await slot_repo.ordering_context(conn, fulfilment)
            slot_rules = self._slot_rules(context)
            starts = slot_rules.starts(self._clock(), self._slot_days_ahead)
            booked = await slot_repo.bookings(conn, fulfilment, starts)
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

    # -- reading and moving orders ------------------------------------------------------------

    async def order(self, token: str) -> OrderView:
        """The order as its customer tracks it: from memory when current (see tracking.py)."""
        return await self._book.order(token)

    async def open_orders(self) -> list[OrderView]:
        async with self._pool.connection() as conn:
            rows = await repo.open_order_rows(conn, OPEN_ORDERS_LIMIT)
        return [order_view(row) for row in rows]

    async def account_orders(self, account_id: int) -> list[OrderView]:
        """The orders placed while signed in to this account, newest first."""
        async with self._pool.connection() as conn:
            rows = await repo.account_order_rows(conn, account_id, ACCOUNT_ORDERS_LIMIT)
        return [order_view(row) for row in rows]

    async def kitchen_cards(self) -> list[KitchenCard]:
        return [
            KitchenCard(view, sorted(next_status_options(view.status, view.fulfilment)))
            for view in await self.open_orders()
        ]

    async def change_status(self, order_id: int, update: StatusUpdate, actor: str) -> OrderView:
        async with self._pool.connection() as conn:
            async with conn.transaction():
                row = await repo.lock_order(conn, order_id)
                if row is None:
                    raise NotFound(f"There is no order {order_id}.")
                check_transition(row["status"], update.status, row["fulfilment"], update.reason)
                reason = update.reason.strip() if update.reason else None
                version = await repo.set_status(
                    conn, order_id, update.status, reason if update.status == "rejected" else None
                )
                await repo.record_status(
                    conn, order_id, row["status"], update.status, reason, actor
                )
                if update.status in RELEASING_STATUSES:
                    await slot_repo.release_slot(conn, row["fulfilment"], row["slot_start"])
                    if await menu_repository.return_stock(conn, order_id):
                        await menu_repository.notify_menu_changed(conn)
                await repo.notify_order_changed(conn, row["token"], version)
            if update.status in RELEASING_STATUSES:
                self.slot_cache.forget()  # a place was given back
            return await self._book.read_through(conn, row["token"])

    async def _view(self, conn: Conn, token: str) -> OrderView:
        row = await repo.order_view_row(conn, token)
        if row is None:
            raise NotFound(
                "There is no order with this tracking link. Check the link you were sent."
            )
        return order_view(row)
