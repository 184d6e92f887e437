"""The application's connection pool, built from Settings with its guards switched on.

psycopg_pool already has the guards the November outage lacked: a bounded waiting queue
(``max_waiting``), a short acquire ``timeout``, ``max_lifetime``, a health ``check`` and background
reconnection. Server-side timeouts travel as connection options so that a stuck statement or an
abandoned transaction is ended by PostgreSQL itself, whatever the application does.
"""

from __future__ import annotations

import time
import weakref

from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from gourmet.config import Settings
from gourmet.db.types import Pool

APPLICATION_NAME = "gourmet"


def server_options(settings: Settings) -> str:
    """``-c`` options applied by PostgreSQL to every session the pool opens."""
    guards = {
        "statement_timeout": settings.statement_timeout_ms,
        "idle_in_transaction_session_timeout": settings.idle_in_transaction_timeout_ms,
        "lock_timeout": settings.lock_timeout_ms,
        "TimeZone": "UTC",
    }
    return " ".join(f"-c {name}={value}" for name, value in guards.items())


class IdleCheck:
    """Check a connection before lending it only if it sat idle for a while.

    psycopg_pool's ``check`` runs on every checkout, which costs one round trip per request and,
    for a one-query endpoint, halves its throughput. A connection returned moments ago is almost
    certainly alive (and if not, the statement fails fast and the pool replaces it), so only
    connections idle longer than ``idle_s`` are checked: exactly the ones a database restart or
    a dropped network path would have killed while they waited.
    """

    def __init__(self, idle_s: float) -> None:
        self._idle_s = idle_s
        self._returned_at: weakref.WeakKeyDictionary[AsyncConnection[DictRow], float] = (
            weakref.WeakKeyDictionary()
        )

    async def returned(self, conn: AsyncConnection[DictRow]) -> None:
        self._returned_at[conn] = time.monotonic()

    async def check(self, conn: AsyncConnection[DictRow]) -> None:
        returned_at = self._returned_at.get(conn)
        if returned_at is None or time.monotonic() - returned_at > self._idle_s:
            await AsyncConnectionPool.check_connection(conn)


def create_pool(settings: Settings, conninfo: str) -> Pool:
    """A closed pool; the lifespan opens it (never at import time)."""
    idle_check = IdleCheck(settings.pool_check_idle_s)
    return AsyncConnectionPool(
        conninfo,
        connection_class=AsyncConnection[DictRow],
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_s,
        max_waiting=settings.pool_max_waiting,
        max_lifetime=settings.pool_max_lifetime_s,
        check=idle_check.check,
        reset=idle_check.returned,
        kwargs={
            "application_name": APPLICATION_NAME,
            "options": server_options(settings),
            "row_factory": dict_row,
            "autocommit": True,
        },
        open=False,
        name="gourmet",
    )
