"""Staff move orders on: the open orders, their next statuses, and each change of status.

A change is one transaction: the status and its history entry; for an order that ends unserved
(rejected, cancelled), its slot place and stock given back, a card attempt still out at the
provider settled, and a paid order's refund owed; the customer's notice in the outbox. Unpaid card
orders are cancelled the same way when their time to pay runs out (:class:`UnpaidExpiry`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import structlog

from gourmet.db.pool import GuardedPool
from gourmet.kitchen.tickets import PrinterState, TicketPrinters
from gourmet.menu import repository as menu_repository
from gourmet.ordering import repository as order_repo
from gourmet.ordering.checkout import slot_repository as slot_repo
from gourmet.ordering.errors import InvalidTransition, TooLateToCancel
from gourmet.ordering.money import refund_repository
from gourmet.ordering.money.by_hand import refundable_cents
from gourmet.ordering.money.owed import owe_refund
from gourmet.ordering.money.settle import settle_later
from gourmet.ordering.notifications.notices import STATUS_EVENTS, Notices
from gourmet.ordering.schemas import KitchenCard, OrderView, StatusUpdate
from gourmet.ordering.tracking import repository as tracking_repo
from gourmet.ordering.tracking.book import OrderBook
from gourmet.ordering.tracking.views import order_view
from gourmet.ordering.workflow import RELEASING_STATUSES, check_transition, next_status_options
from gourmet.problems import NotFound
from gourmet.telemetry import metrics

OPEN_ORDERS_LIMIT = 500
# A customer may cancel their own order until the kitchen takes it.
CUSTOMER_MAY_CANCEL = frozenset({"awaiting_payment", "received"})
EXPIRY_BATCH = 100
log = structlog.get_logger(__name__)


class KitchenOrders:
    """The open orders and their changes of status, as the kitchen board and staff make them."""

    def __init__(
        self,
        pool: GuardedPool,
        book: OrderBook,
        notices: Notices | None = None,
        on_release: Callable[[], None] = lambda: None,
        tickets: TicketPrinters | None = None,
    ) -> None:
        self._pool = pool
        self._book = book
        self._notices = notices or Notices()
        self.tickets = tickets or TicketPrinters({})
        self._on_release = on_release  # a slot place was given back: slot lists are stale

    async def open_orders(self) -> list[OrderView]:
        async with self._pool.connection() as conn:
            rows = await tracking_repo.open_order_rows(conn, OPEN_ORDERS_LIMIT)
        return [order_view(row) for row in rows]

    async def kitchen_cards(self) -> list[KitchenCard]:
        return [
            KitchenCard(view, sorted(next_status_options(view.status, view.fulfilment)))
            for view in await self.open_orders()
        ]

    async def change_status(
        self,
        order_id: int,
        update: StatusUpdate,
        actor: str,
        only_from: frozenset[str] | None = None,
    ) -> OrderView:
        """Move the order on; ``only_from``: only if it is still in one of these statuses (read
        under the order's lock), :class:`TooLateToCancel` otherwise."""
        async with self._pool.connection() as conn:
            async with conn.transaction():
                row = await order_repo.lock_order(conn, order_id)
                if row is None:
                    raise NotFound(f"There is no order {order_id}.")
                if only_from is not None and row["status"] not in only_from:
                    raise TooLateToCancel(
                        f"The kitchen has already taken order {order_id} ({row['status']}):"
                        " call the restaurant to change it.",
                        status=row["status"],
                    )
                check_transition(row["status"], update.status, row["fulfilment"], update.reason)
                reason = update.reason.strip() if update.reason else None
                version = await order_repo.set_status(
                    conn, order_id, update.status, reason if update.status == "rejected" else None
                )
                await order_repo.record_status(
                    conn, order_id, row["status"], update.status, reason, actor
                )
                if update.status in RELEASING_STATUSES:
                    version = await self._release(conn, row, update.status, version)
                if update.status in STATUS_EVENTS:
                    await self._notices.order_event(conn, order_id, update.status)
                await self.tickets.on_status(conn, order_id, row["status"], update.status, version)
                await order_repo.notify_order_changed(conn, row["token"], version)
            if update.status in RELEASING_STATUSES:
                self._on_release()
            return await self._book.read_through(conn, row["token"])

    async def cancel_for_customer(self, token: str) -> OrderView:
        """The customer cancels their order while the kitchen has not taken it yet: its place,
        its stock and a card payment go back, as when staff cancel it."""
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute("SELECT id FROM orders WHERE token = %s", (token,))
            ).fetchone()
        if row is None:
            raise NotFound("There is no such order.")
        update = StatusUpdate(status="cancelled", reason="Cancelled by the customer")
        return await self.change_status(
            row["id"], update, actor="customer", only_from=CUSTOMER_MAY_CANCEL
        )

    async def reprint(self, order_id: int) -> list[str]:
        """Print the order's ticket again at every station; the stations."""
        async with self._pool.connection() as conn, conn.transaction():
            if await order_repo.lock_order(conn, order_id) is None:
                raise NotFound(f"There is no order {order_id}.")
            return await self.tickets.reprint(conn, order_id)

    async def printer_states(self) -> list[PrinterState]:
        async with self._pool.connection() as conn:
            return await self.tickets.states(conn)

    async def _release(self, conn: Any, row: dict[str, Any], status: str, version: int) -> int:
        """An order that ends unserved gives back its place, its stock and its money."""
        await slot_repo.release_slot(conn, row["fulfilment"], row["slot_start"], row["slot_weight"])
        if await menu_repository.return_stock(conn, row["id"]):
            await menu_repository.notify_menu_changed(conn)
        # A card attempt still out at the provider is settled (and given back).
        await settle_later(conn, row, row["token"])
        if row["payment_status"] == "paid":  # what is left of the money goes back
            money = await refund_repository.order_money(conn, row["id"], lock=False)
            left = refundable_cents(money) if money is not None else 0
            if left:
                version = await owe_refund(
                    conn, row["id"], row["payment_reference"], left, f"order {row['id']} {status}"
                )
        return version


class UnpaidExpiry:
    """Cancels card orders left unpaid for ``after``: a chore of the outbox worker. Their slot
    place and stock go back to other customers."""

    def __init__(self, pool: GuardedPool, orders: KitchenOrders, after: timedelta) -> None:
        self._pool = pool
        self._orders = orders
        self._after = after
        minutes = int(after.total_seconds() // 60)
        self._reason = f"Not paid within {minutes} minutes"

    async def __call__(self) -> int:
        async with self._pool.connection() as conn:
            rows: list[dict[str, Any]] = await (
                await conn.execute(
                    "SELECT id FROM orders WHERE status = 'awaiting_payment'"
                    " AND created_at < now() - %s ORDER BY created_at LIMIT %s",
                    (self._after, EXPIRY_BATCH),
                )
            ).fetchall()
        expired = 0
        for row in rows:
            update = StatusUpdate(status="cancelled", reason=self._reason)
            try:
                await self._orders.change_status(row["id"], update, actor="payments")
            except InvalidTransition:  # paid (or moved on) since it was read
                continue
            expired += 1
        metrics.UNPAID_ORDERS_EXPIRED.inc(expired)
        if expired:
            log.info("unpaid_orders_expired", count=expired)
        return expired


class AutoAccept:
    """Accepts new orders as they arrive (``GOURMET_KITCHEN__AUTO_ACCEPT``), printing their
    tickets: a chore of the outbox worker, so within a second of each order."""

    def __init__(self, pool: GuardedPool, orders: KitchenOrders) -> None:
        self._pool = pool
        self._orders = orders

    async def __call__(self) -> int:
        async with self._pool.connection() as conn:
            rows: list[dict[str, Any]] = await (
                await conn.execute(
                    "SELECT id FROM orders WHERE status = 'received' ORDER BY id LIMIT %s",
                    (EXPIRY_BATCH,),
                )
            ).fetchall()
        accepted = 0
        for row in rows:
            try:
                await self._orders.change_status(
                    row["id"], StatusUpdate(status="accepted"), actor="auto-accept"
                )
            except InvalidTransition:  # moved on since it was read
                continue
            accepted += 1
        return accepted
