"""The application's connection pool, built from Settings with its guards switched on.

psycopg_pool already has the guards the November outage lacked: a bounded waiting queue
(``max_waiting``), a short acquire ``timeout``, ``max_lifetime``, a health ``check`` and background
reconnection. Server-side timeouts travel as connection options so that a stuck statement or an
abandoned transaction is ended by PostgreSQL itself, whatever the application does.
:class:`GuardedPool` adds what is specific to a request: the acquire timeout is cut to the
request's remaining deadline, a known-down database is refused at once, and pool or connection
failures become clear 503s instead of 500s or 30-second waits.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout, TooManyRequests

from gourmet.config import Settings
from gourmet.db.budget import ConnectionBudget
from gourmet.db.health import DatabaseHealth
from gourmet.db.leaks import LeaseTracker
from gourmet.db.types import Conn, Pool
from gourmet.problems import ServiceUnavailable
from gourmet.resilience import deadline
from gourmet.telemetry import metrics
from gourmet.telemetry.logging import POOL_WAIT

APPLICATION_NAME = "gourmet"
# The connection the current request holds: set by the old platform's handling only (held.py).
HELD: ContextVar[Conn | None] = ContextVar("held_connection", default=None)


class DatabaseUnavailable(ServiceUnavailable):
    slug = "database-unavailable"
    title = "Temporarily unavailable"


class DatabaseBusy(ServiceUnavailable):
    slug = "database-busy"
    title = "Too busy right now"


def server_guards(settings: Settings) -> dict[str, object]:
    """What PostgreSQL applies to every session serving Gourmet (0 = no limit)."""
    return {
        "statement_timeout": settings.database.statement_timeout_ms,
        "idle_in_transaction_session_timeout": settings.database.idle_in_transaction_timeout_ms,
        "lock_timeout": settings.database.lock_timeout_ms,
        "TimeZone": "UTC",
    }


def server_options(settings: Settings) -> str:
    """The guards as ``-c`` startup options of each session the pool opens."""
    return " ".join(f"-c {name}={value}" for name, value in server_guards(settings).items())


def connection_options(settings: Settings) -> dict[str, Any]:
    """What each pooled connection is opened with, directly or through PgBouncer."""
    options: dict[str, Any] = {
        "application_name": APPLICATION_NAME,
        "row_factory": dict_row,
        "autocommit": True,
    }
    if settings.database.pooler == "pgbouncer":
        # Statements prepared on one server connection are unknown to the next transaction's.
        options["prepare_threshold"] = None
    else:
        options["options"] = server_options(settings)
    return options


class IdleCheck:
    """Check a connection before lending it only if it sat idle for a while.

    psycopg_pool's ``check`` runs on every checkout, which costs one round trip per request and,
    for a one-query endpoint, a large share of its throughput. A connection returned moments ago
    is almost certainly alive (and if not, the statement fails fast and the pool replaces it), so
    only connections idle longer than ``idle_s`` are checked: exactly the ones a database restart
    or a dropped network path would have killed while they waited.
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


def create_pool(settings: Settings, conninfo: str, size: int) -> Pool:
    """A closed pool of ``size`` connections; the lifespan opens it (never at import time)."""
    idle_check = IdleCheck(settings.database.pool_check_idle_s)
    return AsyncConnectionPool(
        conninfo,
        connection_class=AsyncConnection[DictRow],
        min_size=min(settings.database.pool_min_size, size),
        max_size=size,
        timeout=settings.database.pool_timeout_s,
        max_waiting=settings.database.pool_max_waiting,
        max_lifetime=settings.database.pool_max_lifetime_s,
        check=idle_check.check,
        reset=idle_check.returned,
        # Keep retrying for ever: the database coming back must heal the pool without a restart.
        reconnect_timeout=float("inf"),
        kwargs=connection_options(settings),
        open=False,
        name="gourmet",
    )


class GuardedPool:
    """The pool as request handlers use it: bounded waits, fast refusals, clear errors."""

    def __init__(
        self,
        pool: Pool,
        *,
        timeout_s: float,
        health: DatabaseHealth,
        leases: LeaseTracker,
        budget: ConnectionBudget | None,
        fail_fast: bool,
    ) -> None:
        self.pool = pool
        self.health = health
        self.leases = leases
        self.budget = budget
        self._timeout_s = timeout_s
        self._fail_fast = fail_fast
        self.acquire_timeouts = 0
        self.refused_while_down = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Conn]:
        held = HELD.get()
        if held is not None:  # the old platform: the request's own connection, all along
            yield held
            return
        if self._fail_fast and not self.health.up:
            # Waiting for a pool that cannot connect helps nobody; say so at once.
            self.refused_while_down += 1
            raise DatabaseUnavailable(
                "We cannot reach our database right now. Please retry in a few seconds.",
                retry_after_s=2,
            )
        timeout = self._timeout_s
        if self._fail_fast:
            # Neither start with, nor wait into, the last moments of the request's time: the
            # connection is got with START_MARGIN_S still left to do the work and answer.
            deadline.ensure_time_to_finish()
            timeout = deadline.current_timeout_with_margin(timeout, deadline.START_MARGIN_S)
        started = time.perf_counter()
        try:
            async with self.pool.connection(timeout=timeout) as conn:
                waited = time.perf_counter() - started
                metrics.POOL_ACQUIRE.observe(waited)
                POOL_WAIT.set(POOL_WAIT.get() + waited)
                with self.leases.lease(conn):
                    yield conn
        except (PoolTimeout, TooManyRequests) as exc:
            self.acquire_timeouts += 1
            metrics.POOL_TIMEOUTS.inc()
            raise DatabaseBusy(
                "We are very busy right now; your request was not processed. "
                "Please retry in a moment.",
                retry_after_s=1,
            ) from exc
        except psycopg.errors.QueryCanceled as exc:
            raise DatabaseBusy(
                "That took too long and was stopped; nothing was changed. Please retry.",
                retry_after_s=1,
            ) from exc
        except psycopg.errors.LockNotAvailable as exc:
            raise DatabaseBusy(
                "Someone else is changing the same thing; nothing was changed. Please retry.",
                retry_after_s=1,
            ) from exc
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(
                "We lost our database connection; nothing was changed. Please retry.",
                retry_after_s=2,
            ) from exc

    def stats(self) -> dict[str, Any]:
        """Every ``get_stats()`` figure plus in use, idle, waiting and the guards' counters."""
        raw = self.pool.get_stats()
        size, idle = raw.get("pool_size", 0), raw.get("pool_available", 0)
        return {
            **raw,
            "in_use": size - idle,
            "idle": idle,
            "waiting": raw.get("requests_waiting", 0),
            "acquire_timeouts": self.acquire_timeouts,
            "refused_while_down": self.refused_while_down,
            "leaks_detected": self.leases.leaks_detected,
            "database_up": int(self.health.up),
        }
