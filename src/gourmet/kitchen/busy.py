"""Busy mode: one tap in the kitchen adds minutes of lead time, for a while, and the customers'
estimates move with it.

- New orders: the lead time grows by ``extra_minutes`` (the ordering context adds it while
  ``busy_until`` lies ahead), so "as soon as possible" means later, and slots too soon are not
  offered. Nothing resets it: past ``busy_until`` it simply no longer counts.
- Orders already placed, not yet ready and due within the next two hours (``DUE_SOON``):
  raising the extra time by N minutes moves each one's estimated ready time N minutes later
  (from now, for one already late), records "Delayed by N minutes" in its history with the
  person who tapped, and shows it on the tracking page at once; the customer gets an email
  (``delayed``) only when their order moved by more than ``EMAIL_AFTER`` (ten minutes). A
  pre-order for tonight or next week is not the kitchen's rush: it is left alone. Lowering or
  ending busy mode moves no estimate earlier: a customer is never told to come sooner than the
  kitchen can be sure of.
- Automatic busy mode (:class:`AutoBusy`) counts only the orders due soon as the backlog.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

import msgspec

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.ordering import repository as repo
from gourmet.ordering.notifications.notices import Notices
from gourmet.ordering.tracking.book import OrderBook
from gourmet.ordering.workflow import DUE_SOON, TO_MAKE

EMAIL_AFTER = timedelta(minutes=10)  # a smaller move is shown, not emailed


class BusyState(msgspec.Struct, frozen=True):
    extra_minutes: int  # added to the lead time now (0: not busy)
    until: datetime | None  # when busy mode ends by itself
    set_by: str | None
    lead_minutes: int  # the restaurant's usual lead time, busy mode not included


class BusyChange(msgspec.Struct, frozen=True):
    """``extra_minutes`` of lead time (0 ends busy mode) for the next ``for_minutes``."""

    extra_minutes: Annotated[int, msgspec.Meta(ge=0, le=120)]
    for_minutes: Annotated[int, msgspec.Meta(ge=5, le=8 * 60)] = 60


@dataclass(frozen=True)
class Delay:
    token: str
    version: int


class BusyMode:
    def __init__(
        self,
        pool: GuardedPool,
        book: OrderBook,
        notices: Notices,
        on_change: Callable[[], None],
    ) -> None:
        self._pool = pool
        self._book = book
        self._notices = notices
        self._on_change = on_change  # forgets this process's slot lists

    async def state(self) -> BusyState:
        async with self._pool.connection() as conn:
            return await _state(conn)

    async def change(self, change: BusyChange, actor: str) -> BusyState:
        delays: list[Delay] = []
        async with self._pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("LOCK TABLE busy_mode IN SHARE ROW EXCLUSIVE MODE")
                before = await _state(conn)
                await conn.execute(
                    "INSERT INTO busy_mode (id, extra_minutes, busy_until, set_by)"
                    " VALUES (true, %s, now() + make_interval(mins => %s), %s)"
                    " ON CONFLICT (id) DO UPDATE SET extra_minutes = excluded.extra_minutes,"
                    " busy_until = excluded.busy_until, set_by = excluded.set_by,"
                    " set_at = now()",
                    (change.extra_minutes, change.for_minutes, actor),
                )
                later = change.extra_minutes - before.extra_minutes
                if later > 0:
                    delays = await self._delay_waiting_orders(conn, later, actor)
                await conn.execute("SELECT pg_notify('rules_changed', '')")  # slot lists
            state = await _state(conn)
        self._on_change()
        for delay in delays:
            self._book.announce(delay.token, delay.version)
        return state

    async def _delay_waiting_orders(self, conn: Conn, minutes: int, actor: str) -> list[Delay]:
        rows = await (
            await conn.execute(
                "WITH due AS ("
                " SELECT id, coalesce(estimated_ready_at, slot_start) AS before FROM orders"
                " WHERE status = ANY(%(waiting)s)"
                " AND coalesce(estimated_ready_at, slot_start) < now() + %(soon)s FOR UPDATE)"
                " UPDATE orders o SET estimated_ready_at ="
                " greatest(due.before, now()) + make_interval(mins => %(minutes)s),"
                " version = version + 1, updated_at = now() FROM due WHERE o.id = due.id"
                " RETURNING o.id, o.token, o.status, o.version,"
                " o.estimated_ready_at - due.before AS moved",
                {"waiting": list(TO_MAKE), "soon": DUE_SOON, "minutes": minutes},
            )
        ).fetchall()
        note = f"Delayed by {minutes} minutes: the kitchen is busy"
        for row in rows:
            await repo.record_status(conn, row["id"], row["status"], row["status"], note, actor)
            if row["moved"] > EMAIL_AFTER:
                await self._notices.order_event(conn, row["id"], "delayed", tag=str(row["version"]))
            await repo.notify_order_changed(conn, row["token"], row["version"])
        return [Delay(row["token"], row["version"]) for row in rows]


class AutoBusy:
    """Busy mode by itself: when ``backlog`` orders or more due within ``DUE_SOON`` wait for
    the kitchen (received, accepted or preparing) and busy mode is off, it is turned on with
    ``extra_minutes`` for ``for_minutes``, signed "automatic". A chore of the outbox worker;
    every process may run it, and the busy mode's lock makes a second turn-on a no-op."""

    def __init__(
        self, pool: GuardedPool, busy: BusyMode, *, backlog: int, extra_minutes: int
    ) -> None:
        self._pool = pool
        self._busy = busy
        self._backlog = backlog
        self._change = BusyChange(extra_minutes=extra_minutes, for_minutes=30)

    async def __call__(self) -> bool:
        async with self._pool.connection() as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) AS waiting FROM orders WHERE status = ANY(%s)"
                    " AND coalesce(estimated_ready_at, slot_start) < now() + %s",
                    (list(TO_MAKE), DUE_SOON),
                )
            ).fetchone()
            state = await _state(conn)
        waiting = row["waiting"] if row else 0
        if waiting < self._backlog or state.extra_minutes > 0:
            return False
        await self._busy.change(self._change, actor=f"automatic: {waiting} orders waiting")
        return True


async def _state(conn: Conn) -> BusyState:
    row = await (
        await conn.execute(
            "SELECT r.lead_minutes, b.extra_minutes, b.busy_until, b.set_by"
            " FROM restaurant r LEFT JOIN busy_mode b ON b.busy_until > now()"
        )
    ).fetchone()
    if row is None:
        return BusyState(0, None, None, 0)
    return BusyState(
        extra_minutes=row["extra_minutes"] or 0,
        until=row["busy_until"],
        set_by=row["set_by"],
        lead_minutes=row["lead_minutes"],
    )
