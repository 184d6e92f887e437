"""What the commands work with: the database URL, and the services a command calls.

Commands call services, never repositories: ``gourmet status post`` goes through the same
:class:`StatusBoard` as the ops page, ``gourmet users create-admin`` through the same
:class:`AccountService` as sign-up, each with its checks. They get a pool of one connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from gourmet.accounts.service import AccountService
from gourmet.config import Settings
from gourmet.db.embedded import resolve_database_url
from gourmet.db.setup import guarded_pool
from gourmet.observability.status.service import StatusBoard

CONNECT_TIMEOUT_S = 10.0


def database_url(settings: Settings) -> str:
    return resolve_database_url(settings.database.url, settings.data_dir, settings.database.name)


@dataclass(frozen=True)
class CommandServices:
    status_board: StatusBoard
    accounts: AccountService


@asynccontextmanager
async def command_services() -> AsyncIterator[CommandServices]:
    """The services a command calls, on a pool of one connection, closed afterwards."""
    settings = Settings().changed(database={"pool_min_size": 1, "pool_max_size": 1})
    pool = await guarded_pool(settings, database_url(settings))
    await pool.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
    try:
        yield CommandServices(
            # Nothing is served from here: no requests are shed, no payments are made.
            status_board=StatusBoard(pool, shed_total=lambda: 0, breaker_open=lambda: False),
            accounts=AccountService(pool, session_hours=settings.security.session_hours),
        )
    finally:
        await pool.pool.close()
