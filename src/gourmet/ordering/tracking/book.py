"""Order status from memory: the orders this process was recently asked about, kept current by
the ``order_changed`` notifications every process already listens to.

Tracking is most of a rush's traffic (every customer's page polls or streams its order), and a
status read can be answered without the database: each process keeps the view of the orders it
served lately, bounded (least recently read first out). A read of a held order costs no query;
an order not held costs one indexed read, and is then held.

Freshness, across any number of processes, rests on the order's version, which every change
bumps and every ``order_changed`` notice carries ("<token>:<version>", sent on commit):

- A notice of a version newer than the one held marks the view stale (kept, but no longer
  served while the database answers); it is refreshed in the background, a batch at a time. A
  notice of a version already held (the process's own change, or one it has read) is ignored.
- A read that returns an older version than one already announced is held as stale, and so is
  one that started before the listener reconnected (notices may have been lost meanwhile; the
  reconnect marks everything held stale).
- A process that changes an order holds what it read back after its commit, or marks the order
  stale at once (:meth:`OrderBook.changed`), so it never answers with what it just changed.

While the database is unreachable, what is held is served as it was last known: nothing about an
order can change then anyway, and "received, being prepared" is worth more to a customer than an
error page.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import msgspec
import psycopg
import structlog

from gourmet.cancellation import stop_if_cancelled
from gourmet.db.notifications import RESYNC
from gourmet.db.pool import DatabaseUnavailable, GuardedPool
from gourmet.db.types import Conn
from gourmet.ordering import repository as order_repo
from gourmet.ordering.errors import no_such_order
from gourmet.ordering.schemas import OrderView
from gourmet.ordering.tracking import repository as repo
from gourmet.ordering.tracking.views import order_view
from gourmet.problems import ServiceUnavailable

REFRESH_BATCH = 200  # tokens per background read
RETRY_AFTER_S = 1.0  # after a failed refresh
NOTICES_KEPT = 4096  # versions announced for orders not held, to judge reads that raced them
log = structlog.get_logger(__name__)


@dataclass
class _Entry:
    view: OrderView
    version: int
    stale: bool = False
    body: bytes | None = None  # the view as JSON, encoded on first use

    def json(self) -> bytes:
        if self.body is None:
            self.body = msgspec.json.encode(self.view)
        return self.body


class OrderBook:
    """The views of recently read orders, at most ``capacity`` of them."""

    def __init__(self, pool: GuardedPool, *, capacity: int) -> None:
        self._pool = pool
        self._capacity = capacity
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._announced: OrderedDict[str, int] = OrderedDict()  # token: newest version heard of
        self._resyncs = 0
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self.hits = 0
        self.reads = 0

    def __len__(self) -> int:
        return len(self._entries)

    def fresh_json(self, token: str) -> bytes | None:
        """The held order as JSON when it is known to be current, else None (for the fast
        path in front of the app: no routing, no encoding)."""
        entry = self._entries.get(token)
        if entry is None or entry.stale:
            return None
        self._entries.move_to_end(token)
        self.hits += 1
        return entry.json()

    async def order(self, token: str) -> OrderView:
        """The order's view: from memory when current, else one indexed read (and held)."""
        entry = self._entries.get(token)
        if entry is not None and not entry.stale:
            self._entries.move_to_end(token)
            self.hits += 1
            return entry.view
        try:
            async with self._pool.connection() as conn:
                return await self.read_through(conn, token)
        except DatabaseUnavailable:
            if entry is not None:  # the database is away: what we last knew of it
                return entry.view
            raise

    async def read_through(self, conn: Conn, token: str) -> OrderView:
        """Read the order on ``conn`` (after any commit of the caller's) and hold it."""
        resyncs = self._resyncs
        row = await repo.order_view_row(conn, token)
        self.reads += 1
        if row is None:
            raise no_such_order()
        return self._hold(row, resyncs)

    def remember(self, view: OrderView) -> None:
        """Hold an order this process has just placed (its first version)."""
        entry = _Entry(view, version=1)
        self._store(view.token, entry)
        if self._announced.get(view.token, 0) > 1:
            self._mark_stale(view.token, entry)

    def announce(self, token: str, version: int) -> None:
        """This process committed ``version`` of the order: anything older is stale, even a
        read still in flight, before the notice of it comes back."""
        self._announced[token] = max(version, self._announced.get(token, 0))
        self._announced.move_to_end(token)
        while len(self._announced) > NOTICES_KEPT:
            self._announced.popitem(last=False)
        held = self._entries.get(token)
        if held is not None and version > held.version:
            self._mark_stale(token, held)

    def lost(self) -> None:
        """The listener lost its connection: notices may be missed until it is back, so
        nothing held is known to be current (it is still served while the database is away)."""
        self._resyncs += 1
        for token, entry in self._entries.items():
            self._mark_stale(token, entry)

    async def on_change(self, payload: str) -> None:
        """The notification hub's handler for ``order_changed``."""
        if payload == RESYNC:
            self.lost()
            return
        token, version = order_repo.parse_notice(payload)
        if version is not None:
            self.announce(token, version)
            return
        held = self._entries.get(token)
        if held is not None:  # a change of unknown version (an older writer's notice)
            self._mark_stale(token, held)

    async def run(self) -> None:
        """Run forever: refresh the held orders marked stale, a batch per read; after a failed
        read, try again a moment later (reads of stale orders go to the database meanwhile)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                count = min(REFRESH_BATCH, len(self._pending))
                taken = [self._pending.pop() for _ in range(count)]
                batch = [token for token in taken if token in self._entries]
                if batch and not await self._refresh(batch):
                    stop_if_cancelled()  # the failure may have been a cancellation
                    await asyncio.sleep(RETRY_AFTER_S)

    async def _refresh(self, tokens: list[str]) -> bool:
        resyncs = self._resyncs
        try:
            async with self._pool.connection() as conn:
                rows = await repo.order_view_rows(conn, tokens)
        except (ServiceUnavailable, psycopg.Error) as exc:
            self._pending.update(tokens)
            log.warning("order_views_not_refreshed", error=str(exc), orders=len(tokens))
            return False
        except Exception:  # never the end of the refresher: log it, keep the views stale
            log.exception("order_views_not_refreshed", orders=len(tokens))
            return False
        for row in rows:
            self._hold(row, resyncs)
        return True

    def _hold(self, row: dict[str, Any], resyncs: int) -> OrderView:
        """Hold a row read from the database: current unless a newer version was announced
        or the listener reconnected while it was being read."""
        view = order_view(row)
        version: int = row["version"]
        held = self._entries.get(view.token)
        if held is not None and held.version > version:
            return view  # a newer version is held already
        stale = self._announced.get(view.token, 0) > version or self._resyncs != resyncs
        entry = _Entry(view, version, stale=stale)
        self._store(view.token, entry)
        # Held stale, not queued for a refresh: the notice or resync that made it stale queued
        # one already, and a refresh that keeps reading an old version must not loop.
        return view

    def _store(self, token: str, entry: _Entry) -> None:
        self._entries[token] = entry
        self._entries.move_to_end(token)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def _mark_stale(self, token: str, entry: _Entry) -> None:
        entry.stale = True
        self._pending.add(token)
        self._wake.set()
