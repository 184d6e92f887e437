"""One LISTEN connection per process, for every channel, and the database's health probe.

PostgreSQL delivers NOTIFY payloads on commit. This hub holds the process's only LISTEN
connection (outside the pool), runs a handler per channel (the menu cache reloads) and fans
payloads out to subscribers (order tracking and the kitchen board stream them to browsers). The
connection is always open, so it is also the first to notice a lost database: it marks the
health down, reconnects with a short backoff, heals the pool and tells subscribers to resync,
since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import psycopg
import structlog
from psycopg import sql

from gourmet.db.health import DatabaseHealth, answer_within
from gourmet.db.pool import GuardedPool

log = structlog.get_logger(__name__)

MENU_CHANNEL = "menu_changed"
ORDER_CHANNEL = "order_changed"
STATUS_CHANNEL = "status_changed"
RULES_CHANNEL = "rules_changed"  # the restaurant's rules: hours, capacity, pause, settings
CHANNELS = (MENU_CHANNEL, ORDER_CHANNEL, STATUS_CHANNEL, RULES_CHANNEL)
RESYNC = "*resync*"  # sent to subscribers after a reconnect: anything may have changed
_RECONNECT_MAX_S = 1.0  # short, so that a returning database is noticed within seconds
# A database that stops answering closes nothing: it is found out by asking. Every PROBE_EVERY_S
# without a notification the listener runs SELECT 1 on its own connection (no pool queue before
# it); no answer within PROBE_TIMEOUT_S means down, so a frozen database is noticed within 2 s.
PROBE_EVERY_S = 0.5
PROBE_TIMEOUT_S = 1.5
CONNECT_TIMEOUT_S = 2  # libpq's smallest: a frozen server accepts TCP but never answers
_QUEUE_SIZE = 256

Handler = Callable[[str], Awaitable[None]]


class NotificationHub:
    def __init__(self, conninfo: str, pool: GuardedPool, health: DatabaseHealth) -> None:
        self._conninfo = conninfo
        self._pool = pool
        self._health = health
        self._handlers: dict[str, list[Handler]] = {}
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = {c: set() for c in CHANNELS}
        self._on_lost: list[Callable[[], None]] = []
        self._background: dict[Handler, asyncio.Task[None]] = {}
        self._again: set[Handler] = set()
        self.connected = asyncio.Event()

    def on(self, channel: str, handler: Handler, *, background: bool = False) -> None:
        """Run ``handler(payload)`` for each notification (and with RESYNC after a reconnect).

        A handler that reads the database (a reload) runs ``background``: outside the listening
        loop, one run at a time, a run asked for meanwhile folded into one more after it. The
        loop then never waits on the database except for its own probe."""
        if background:
            self._handlers.setdefault(channel, []).append(self._in_background(handler))
        else:
            self._handlers.setdefault(channel, []).append(handler)

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` the moment the connection is lost: notices sent from then until
        the reconnect's RESYNC are lost, so what was known may be out of date."""
        self._on_lost.append(callback)

    def _in_background(self, handler: Handler) -> Handler:
        async def start(payload: str) -> None:
            running = self._background.get(handler)
            if running is not None and not running.done():
                self._again.add(handler)
                return
            self._background[handler] = asyncio.create_task(self._run(handler, payload))

        return start

    async def _run(self, handler: Handler, payload: str) -> None:
        while True:
            await _guarded(handler, payload)
            if handler not in self._again:
                return
            self._again.discard(handler)
            payload = RESYNC

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue of the channel's payloads for as long as the caller stays inside."""
        queue: asyncio.Queue[str] = asyncio.Queue(_QUEUE_SIZE)
        self._subscribers[channel].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[channel].discard(queue)

    def subscriber_count(self, channel: str) -> int:
        return len(self._subscribers[channel])

    async def _dispatch(self, channel: str, payload: str) -> None:
        for handler in self._handlers.get(channel, ()):
            await _guarded(handler, payload)
        for queue in self._subscribers.get(channel, ()):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck reader resyncs on its own
                queue.put_nowait(payload)

    async def run(self) -> None:
        """Run forever: listen, dispatch, and reconnect after losing the database."""
        backoff = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo,
                    autocommit=True,
                    application_name="gourmet-listener",
                    connect_timeout=CONNECT_TIMEOUT_S,
                ) as conn:
                    for channel in CHANNELS:
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self._health.mark_up()
                    self.connected.set()
                    await self._pool.pool.check()  # replace connections an outage broke
                    for channel in CHANNELS:
                        await self._dispatch(channel, RESYNC)
                    backoff = 0.1
                    while True:
                        async for notify in conn.notifies(timeout=PROBE_EVERY_S):
                            await self._dispatch(notify.channel, notify.payload)
                        await _probe(conn)
            except (psycopg.Error, OSError) as exc:
                self.connected.clear()
                self._health.mark_down()
                for callback in self._on_lost:
                    callback()
                log.warning("listener_disconnected", error=str(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RECONNECT_MAX_S)


async def _probe(conn: psycopg.AsyncConnection[Any]) -> None:
    """Raise OperationalError unless the database answers SELECT 1 within PROBE_TIMEOUT_S. An
    unanswered probe drops the connection at once rather than wait for a cancellation."""
    try:
        await answer_within(conn.execute("SELECT 1"), PROBE_TIMEOUT_S, conn.pgconn.finish)
    except TimeoutError as exc:
        raise psycopg.OperationalError(
            f"the database did not answer a probe within {PROBE_TIMEOUT_S} s"
        ) from exc


async def _guarded(handler: Handler, payload: str) -> None:
    """Run a handler; its failure (a reload that met a busy database, say) is logged and never
    ends the listener, which the health of the whole process depends on."""
    try:
        await handler(payload)
    except Exception:
        log.exception("notification_handler_failed", handler=getattr(handler, "__qualname__", ""))
