"""Type names shared by every repository."""

from __future__ import annotations

from typing import TypeAlias

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import DictRow
from psycopg_pool import AsyncConnectionPool

Conn: TypeAlias = AsyncConnection[DictRow]
# A statement sent and not yet read: in a pipeline, its result comes with the next sync.
Cursor: TypeAlias = AsyncCursor[DictRow]
Pool: TypeAlias = AsyncConnectionPool[Conn]
