"""What every command needs: settings and a database URL (embedded by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import psycopg
from psycopg.rows import DictRow, dict_row

from gourmet.config import Settings
from gourmet.db.embedded import resolve_database_url


def database_url(settings: Settings) -> str:
    return resolve_database_url(settings.database_url, settings.data_dir, settings.database_name)


@asynccontextmanager
async def connect() -> AsyncIterator[psycopg.AsyncConnection[DictRow]]:
    """A connection to the configured database, rows as dicts."""
    async with await psycopg.AsyncConnection.connect(
        database_url(Settings()), row_factory=dict_row
    ) as conn:
        yield conn
