"""The application's connection pool, built from Settings with its guards switched on.

psycopg_pool already has the guards the November outage lacked: a bounded waiting queue
(``max_waiting``), a short acquire ``timeout``, ``max_lifetime``, a health ``check`` and background
reconnection. Server-side timeouts travel as connection options so that a stuck statement or an
abandoned transaction is ended by PostgreSQL itself, whatever the application does.
"""

from __future__ import annotations

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


def create_pool(settings: Settings, conninfo: str) -> Pool:
    """A closed pool; the lifespan opens it (never at import time)."""
    return AsyncConnectionPool(
        conninfo,
        connection_class=AsyncConnection[DictRow],
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_s,
        max_waiting=settings.pool_max_waiting,
        max_lifetime=settings.pool_max_lifetime_s,
        check=AsyncConnectionPool.check_connection,
        kwargs={
            "application_name": APPLICATION_NAME,
            "options": server_options(settings),
            "row_factory": dict_row,
            "autocommit": True,
        },
        open=False,
        name="gourmet",
    )
