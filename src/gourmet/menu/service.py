"""The menu cache: menu reads never touch the pool.

The whole menu is rendered to JSON once and kept with its ETag. A dedicated connection (outside
the pool) LISTENs on ``menu_changed``; any transaction that changes the menu NOTIFYs on commit, so
every process reloads within moments. If the listener loses the database it reconnects with
backoff and reloads, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass

import msgspec
import psycopg
import structlog

from gourmet.db.health import DatabaseHealth
from gourmet.db.pool import GuardedPool
from gourmet.menu import repository
from gourmet.menu.schemas import Menu

log = structlog.get_logger(__name__)

MENU_CHANNEL = "menu_changed"
# Short, so that the database coming back is noticed (and the process healed) within seconds.
_RECONNECT_MAX_S = 1.0


@dataclass(frozen=True)
class CachedMenu:
    menu: Menu
    body: bytes
    etag: str
    loaded_at: float


class MenuCache:
    """The menu, ready to send. With ``cached=False`` (the incident profile) every read goes to
    the database, as on the old platform; the listener still runs, to watch the database."""

    def __init__(
        self, pool: GuardedPool, conninfo: str, health: DatabaseHealth, *, cached: bool = True
    ) -> None:
        self._pool = pool
        self._conninfo = conninfo
        self._health = health
        self.cached = cached
        self._current: CachedMenu | None = None
        self._reload_lock = asyncio.Lock()
        self.loaded = asyncio.Event()
        self.reloads = 0

    @property
    def current(self) -> CachedMenu | None:
        return self._current

    async def reload(self) -> CachedMenu:
        # One reload at a time: a burst of notifications must not take many pool connections.
        async with self._reload_lock:
            self._current = await self.fetch_uncached()
            self.reloads += 1
            self.loaded.set()
            return self._current

    async def fetch_uncached(self) -> CachedMenu:
        async with self._pool.connection() as conn:
            menu = await repository.fetch_menu(conn)
        body = msgspec.json.encode(menu)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return CachedMenu(menu=menu, body=body, etag=etag, loaded_at=time.monotonic())

    async def listen(self) -> None:
        """Run forever: reload on every notification, reconnect after losing the database."""
        backoff = 0.1
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._conninfo, autocommit=True, application_name="gourmet-menu-listener"
                ) as conn:
                    await conn.execute(f"LISTEN {MENU_CHANNEL}")
                    self._health.mark_up()
                    await self._pool.pool.check()  # replace connections the outage broke
                    await self.reload()  # catch up on anything missed while disconnected
                    backoff = 0.1
                    async for _ in conn.notifies():
                        await self.reload()
            except (psycopg.Error, OSError) as exc:
                self._health.mark_down()
                log.warning("menu_listener_disconnected", error=str(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _RECONNECT_MAX_S)
