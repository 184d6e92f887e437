"""Ordering use cases. Each one is a single transaction: it commits whole or leaves nothing."""

from __future__ import annotations

import functools
import hashlib
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import msgspec
import psycopg

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repository
from gourmet.menu.schemas import Item
from gourmet.money import Money
from gourmet.ordering.checkout import repository as repo
from gourmet.ordering.checkout import slot_repository as slot_repo
from gourmet.ordering.checkout.delivery import delivery_terms, normalize_postcode
from gourmet.ordering.checkout.placed import OVERRIDE_CAPACITY, Entry, new_order_view
from gourmet.ordering.checkout.pricing import price_cart, tax_cents, tip_cents
from gourmet.ordering.checkout.slot_choice import SlotChoice
from gourmet.ordering.errors import (
    CardConfirmedInBrowser,
    CardTokenRequired,
    IdempotencyKeyReused,
    ItemUnavailable,
    MenuChanged,
    OrderingPaused,
    SlotFull,
    no_such_order,
)
from gourmet.ordering.money.service import IN_BROWSER, PaymentService
from gourmet.ordering.notifications.notices import Notices
from gourmet.ordering.schemas import (
    AsapQuote,
    CheckoutRequest,
    Fulfilment,
    OrderView,
    Slot,
    with_one_mailbox,
)
from gourmet.ordering.tracking import repository as tracking_repo
from gourmet.ordering.tracking.book import OrderBook
from gourmet.ordering.tracking.views import order_view
from gourmet.problems import Problem
from gourmet.resilience import deadline
from gourmet.telemetry import metrics

TOKEN_BYTES = 18  # 144 random bits: unguessable, and 24 URL-safe characters
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what secrets.token_urlsafe gives
OPEN_ORDERS_LIMIT = 500
ACCOUNT_ORDERS_LIMIT = 50  # an account's history, newest first
# Kept of a checkout's deadline for its commit and its answer's way back to the client.
ANSWER_MARGIN_S = 0.1
CANCEL_TIMEOUT_S = 2.0  # sending a cancel request to the server


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
        notices: Notices | None = None,
        statement_timeout_s: float = math.inf,
    ) -> None:
        self._pool = pool
        self._statement_timeout_s = statement_timeout_s  # the server's own bound (0: none)
        self._book = book
        self._payments = payments
        self._notices = notices or Notices()
        self._money = money
        self._slots = SlotChoice(
            pool, tz=tz, days_ahead=slot_days_ahead, cached=slots_cached, clock=clock
        )
        # Slot lists held until an order or a rule changes them; the hub feeds it the other
        # processes' changes.
        self.slot_cache = self._slots.cache

    async def slots(self, fulfilment: Fulfilment) -> list[Slot]:
        """Upcoming slots and their places left, from memory until something changes them."""
        return await self._slots.slots(fulfilment)

    def closed_today(self, fulfilment: Fulfilment) -> str | None:
        """Today's closing message when today is a closed special day (read with the slots)."""
        return self._slots.closed_today(fulfilment)

    def asap_minutes(self, fulfilment: Fulfilment) -> int | None:
        """How soon an order of the usual prep time placed now can be ready, in minutes (read
        with the slots)."""
        rules = self._slots.rules(fulfilment)
        return rules.quote_minutes() if rules else None

    def asap_quote(self, fulfilment: Fulfilment) -> AsapQuote | None:
        """What the quote is made of, for a cart's own prep time (read with the slots)."""
        return self._slots.asap_quote(fulfilment)

    def forget_slots(self) -> None:
        """The restaurant's rules changed in this process: slot lists are read again."""
        self.slot_cache.forget()

    # -- checkout -----------------------------------------------------------------------------

    async def checkout(
        self,
        request: CheckoutRequest,
        idempotency_key: str | None,
        account_id: int | None = None,
        entry: Entry | None = None,
    ) -> tuple[OrderView, bool]:
        """Place an order; return it and whether it is new (False: an idempotent replay).
        ``account_id`` is the signed-in customer's account the order is kept under, if any;
        ``entry`` says which staff member took it by phone."""
        request = with_one_mailbox(request)  # one recipient, or 422 before anything is written
        # The account is part of the request: a key replayed by anyone else (another account,
        # or no account) is a different request (409), never a way to read someone's order.
        fingerprint = hashlib.sha256(
            msgspec.json.encode(request) + f"|account:{account_id}".encode()
        ).hexdigest()
        # With Stripe the card is confirmed in the browser after the order is placed (its
        # payment intent); with the sandbox the card comes with the order.
        in_browser = self._payments is not None and self._payments.confirms_in_browser
        if in_browser and request.card_token is not None:
            raise CardConfirmedInBrowser(IN_BROWSER, field="card_token")
        if request.payment == "card" and (
            self._payments is None or (request.card_token is None and not in_browser)
        ):
            raise CardTokenRequired(
                "Paying by card needs the card form to be filled in (a card_token)."
                if self._payments is not None
                else "Card payments are not set up; choose pay at pickup.",
                field="card_token",
            )
        try:
            async with self._pool.connection() as conn:
                # No order for a client that has gone: nothing runs, or commits, past the
                # deadline, and a statement still running when the client goes is cancelled.
                cancel = functools.partial(conn.cancel_safe, timeout=CANCEL_TIMEOUT_S)
                with deadline.cancelled_on_departure(cancel):
                    view, created = await self._checkout(
                        conn, request, idempotency_key, fingerprint, account_id, entry
                    )
        except psycopg.errors.ForeignKeyViolation as exc:
            # A manager deleted an option or zone between our read and our insert: nothing
            # was written (the transaction rolled back); the customer reviews the cart.
            metrics.ORDERS_REJECTED.labels(MenuChanged.slug).inc()
            raise MenuChanged(
                "Something in your order was just taken off the menu. Please check your cart "
                "and order again."
            ) from exc
        except psycopg.Error as exc:
            if not slot_repo.no_place_left(exc):
                raise
            # Nothing was written (the transaction rolled back): say which slot is free next.
            problem = await self._slots.no_place_left(request)
            metrics.ORDERS_REJECTED.labels(problem.type_slug).inc()
            raise problem from exc
        except Problem as problem:
            metrics.ORDERS_REJECTED.labels(problem.type_slug).inc()
            raise
        if created:
            metrics.ORDERS_PLACED.labels(request.fulfilment).inc()
            self._book.remember(view)
            self.slot_cache.forget()  # a place was taken
        if (
            view.status == "awaiting_payment"
            and view.payment_status != "declined"
            and request.card_token is not None
        ):
            # After the commit: the provider is called with no connection held. A replayed
            # request retries a payment that failed, with the same key (never a double charge).
            assert self._payments is not None
            await self._payments.pay(view.token, request.card_token)
            view = await self.order(view.token)
        return view, created

    async def _checkout(
        self,
        conn: Conn,
        request: CheckoutRequest,
        key: str | None,
        fingerprint: str,
        account_id: int | None,
        entry: Entry | None = None,
    ) -> tuple[OrderView, bool]:
        """One transaction in three round trips, pipelined: BEGIN, the key's claim, the rules
        and the items in the first; stock (only for counted items) in the second; the order
        with its slot place, and COMMIT, in the last. The slot's row lock is held from that
        last statement to its commit, never across the round trips before it."""
        async with conn.pipeline(), conn.transaction():
            left = deadline.current_timeout(math.inf) - ANSWER_MARGIN_S
            if left < self._statement_timeout_s:  # tighter than the server's own bound
                await repo.send_time_limit(conn, left)
            claim = await repo.send_claim(conn, key, fingerprint) if key else None
            context_sent = await slot_repo.send_ordering_context(conn, request.fulfilment)
            items_sent = await menu_repository.send_items_and_tracking(
                conn, {line.item_id for line in request.lines}
            )
            if key is not None and claim is not None and not await repo.claimed(claim):
                token = await self._replayed_token(conn, key, fingerprint)
                return await self._view(conn, token), False
            context = await slot_repo.read_ordering_context(context_sent)
            items, tracked = await menu_repository.read_items_and_tracking(items_sent)
            new_order, lines, candidates, sold_out = await self._prepare(
                conn, request, context, items, tracked, account_id, entry
            )
            overridden = entry is not None and entry.override
            deadline.ensure_time_to_finish(ANSWER_MARGIN_S)  # else nothing is written
            inserted = await repo.send_insert_order(
                conn,
                new_order,
                lines,
                key,
                entry.by if entry else "customer",
                candidates,
                OVERRIDE_CAPACITY if overridden else context.capacity,
                mail=self._notices.email,
            )
            if sold_out:
                await menu_repository.notify_menu_changed(conn)
            # The transaction's end sends COMMIT with the insert: one round trip for both.
        number, created_at, slot_start = await repo.read_inserted(inserted)
        return new_order_view(
            replace(new_order, slot_start=slot_start), number, created_at, lines
        ), True

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

    async def _prepare(
        self,
        conn: Conn,
        request: CheckoutRequest,
        context: slot_repo.OrderingContext,
        items: list[Item],
        tracked: set[int],
        account_id: int | None,
        entry: Entry | None = None,
    ) -> tuple[repo.NewOrder, list[dict[str, Any]], list[datetime], bool]:
        """Validate, price and take stock; return the order to store, its lines, the slots it
        may take (in order of preference) and whether an item sold out."""
        rules = context.rules
        if rules.ordering_paused and not (entry and entry.override):
            raise OrderingPaused(
                rules.pause_message or "We are not taking online orders right now."
            )
        cart = price_cart(request.lines, {item.id: item for item in items})
        weight = sum(line.quantity for line in cart.lines) if rules.capacity_unit == "items" else 1
        if weight > context.capacity > 0 and not (entry and entry.override):
            raise SlotFull(
                f"This order has {weight} items and a time slot takes at most "
                f"{context.capacity}; please split it, or call the restaurant."
            )
        zone, fee = delivery_terms(request, cart, context.zones, self._money)
        # Its items are made side by side: the order takes as long as its longest one (an item
        # with no prep time of its own takes the lead time).
        prep = {item.id: item.prep_minutes or rules.default_prep_minutes for item in items}
        make_minutes = max(prep[line.item_id] for line in cart.lines)
        candidates = await self._slots.candidates(conn, request, context, make_minutes)
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
            slot_start=candidates[0],  # the store's choice replaces it
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
            tip_cents=tip_cents(cart.subtotal_cents, request.tip_percent, request.tip_cents),
            account_id=account_id,
            entered_by=entry.by if entry else None,
            note=entry.note if entry else None,
            slot_weight=weight,
            make_minutes=make_minutes,
        )
        return new_order, repo.line_documents(cart), candidates, sold_out

    # -- reading orders (staff move them: gourmet.kitchen.orders) ------------------------

    async def order(self, token: str) -> OrderView:
        """The order as its customer tracks it: from memory when current (see tracking.py).
        A token we could never have issued is not looked up at all."""
        if not TOKEN_PATTERN.fullmatch(token):
            raise no_such_order()
        return await self._book.order(token)

    async def account_orders(self, account_id: int) -> list[OrderView]:
        """The orders placed while signed in to this account, newest first."""
        async with self._pool.connection() as conn:
            rows = await tracking_repo.account_order_rows(conn, account_id, ACCOUNT_ORDERS_LIMIT)
        return [order_view(row) for row in rows]

    async def _view(self, conn: Conn, token: str) -> OrderView:
        row = await tracking_repo.order_view_row(conn, token)
        if row is None:
            raise no_such_order()
        return order_view(row)
