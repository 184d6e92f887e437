"""Building the guarded pool for a process: budget, size, health and leak tracking."""

from __future__ import annotations

import psycopg
import structlog

from gourmet.config import Settings
from gourmet.db.budget import DEFAULT_POOL_CEILING, ConnectionBudget
from gourmet.db.health import DatabaseHealth
from gourmet.db.leaks import LeaseTracker
from gourmet.db.pool import GuardedPool, create_pool

log = structlog.get_logger(__name__)

FALLBACK_POOL_SIZE = 10  # when the database cannot be asked for its budget at startup
BUDGET_QUERY_TIMEOUT_S = 2


async def read_budget(settings: Settings, conninfo: str) -> ConnectionBudget | None:
    """The database's connection budget, or None if it cannot be reached right now."""
    try:
        async with await psycopg.AsyncConnection.connect(
            conninfo, connect_timeout=BUDGET_QUERY_TIMEOUT_S, autocommit=True
        ) as conn:
            row = await (
                await conn.execute(
                    "SELECT current_setting('max_connections')::int,"
                    " current_setting('superuser_reserved_connections')::int"
                )
            ).fetchone()
    except psycopg.OperationalError as exc:
        log.warning("connection_budget_unknown", error=str(exc))
        return None
    assert row is not None
    max_connections, superuser_reserved = row
    return ConnectionBudget(
        max_connections=max_connections,
        reserved=superuser_reserved + settings.database.reserved_connections,
        processes=settings.server.workers * settings.server.replicas,
    )


async def guarded_pool(settings: Settings, conninfo: str) -> GuardedPool:
    """A closed guarded pool sized from the budget; raises if the settings exceed it.

    Through PgBouncer the pools hold PgBouncer's client connections, not PostgreSQL's: the
    database's budget (read from PostgreSQL itself) is spent by PgBouncer's server pools, sized
    by `gourmet capacity plan`, and by each process's listener, which is all checked here."""
    if settings.database.pooler == "pgbouncer":
        assert settings.database.listen_url is not None  # Settings requires it
        budget = await read_budget(settings, settings.database.listen_url)
        if budget is not None:
            budget.listeners_fit()
        size = settings.database.pool_max_size or DEFAULT_POOL_CEILING
    elif (budget := await read_budget(settings, conninfo)) is not None:
        size = budget.pool_size(settings.database.pool_max_size)
    else:
        size = settings.database.pool_max_size or FALLBACK_POOL_SIZE
    log.info("pool_sized", size=size, budget=budget)
    return GuardedPool(
        create_pool(settings, conninfo, size),
        timeout_s=settings.database.pool_timeout_s,
        health=DatabaseHealth(),
        leases=LeaseTracker(settings.database.pool_leak_threshold_s),
        budget=budget,
        fail_fast=settings.hardened,
    )
