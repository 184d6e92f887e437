"""The menu cache: menu reads never touch the pool.

The whole menu is rendered to JSON once and kept with its ETag. Any transaction that changes the
menu NOTIFYs ``menu_changed`` on commit; the process's notification hub (db/notifications.py)
calls :meth:`MenuCache.on_change`, so every process reloads within moments, and again after the
hub reconnects, since notifications sent meanwhile are lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass

import msgspec

from gourmet.db.pool import GuardedPool
from gourmet.menu import repository
from gourmet.menu.schemas import Menu


@dataclass(frozen=True)
class CachedMenu:
    menu: Menu
    body: bytes
    etag: str
    loaded_at: float


class MenuCache:
    """The menu, ready to send. With ``cached=False`` (the incident profile) every read goes to
    the database, as on the old platform."""

    def __init__(self, pool: GuardedPool, *, cached: bool = True) -> None:
        self._pool = pool
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

    async def read(self) -> CachedMenu | None:
        """The menu as a request should see it: the cached copy (None before the first load),
        or, with caching off (the incident profile), a fresh read from the database."""
        if self.cached:
            return self._current
        return await self.fetch_uncached()

    async def fetch_uncached(self) -> CachedMenu:
        async with self._pool.connection() as conn:
            menu = await repository.fetch_menu(conn)
        body = msgspec.json.encode(menu)
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        return CachedMenu(menu=menu, body=body, etag=etag, loaded_at=time.monotonic())

    async def on_change(self, _payload: str) -> None:
        """The hub's handler for ``menu_changed`` (and for resyncs after a reconnect)."""
        await self.reload()
