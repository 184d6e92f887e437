"""The baseline: a bare ASGI app on the same server, doing the least work that answers.

``/menu`` returns the same menu bytes Gourmet serves (read once at startup); ``/orders/{token}``
runs Gourmet's order query through a psycopg_pool of the same size. The ratios in ``make bench``
compare Gourmet with this, so they measure what the framework and our code add.
"""

from __future__ import annotations

import os
from typing import Any

import msgspec
from psycopg import AsyncConnection
from psycopg.rows import DictRow, dict_row
from psycopg_pool import AsyncConnectionPool

from gourmet.config import Settings
from gourmet.db.budget import DEFAULT_POOL_CEILING
from gourmet.db.pool import server_options
from gourmet.menu import repository as menu_repository
from gourmet.ordering.tracking.repository import ORDER_VIEW_SQL

Scope = dict[str, Any]

_state: dict[str, Any] = {}


async def _startup() -> None:
    settings = Settings()
    pool: AsyncConnectionPool[AsyncConnection[DictRow]] = AsyncConnectionPool(
        os.environ["GOURMET_DATABASE__URL"],
        connection_class=AsyncConnection[DictRow],
        # Gourmet sizes its pool from the connection budget, which caps it at this ceiling.
        min_size=settings.database.pool_max_size or DEFAULT_POOL_CEILING,
        max_size=settings.database.pool_max_size or DEFAULT_POOL_CEILING,
        kwargs={"row_factory": dict_row, "autocommit": True, "options": server_options(settings)},
        open=False,
    )
    await pool.open(wait=True)
    async with pool.connection() as conn:
        _state["menu"] = msgspec.json.encode(await menu_repository.fetch_menu(conn))
    _state["pool"] = pool


async def _send(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await _state["pool"].close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    path: str = scope["path"]
    if path == "/menu":
        await _send(send, 200, _state["menu"])
    elif path.startswith("/orders/"):
        token = path.removeprefix("/orders/")
        async with _state["pool"].connection() as conn:
            cursor = await conn.execute(ORDER_VIEW_SQL + " WHERE o.token = %s", (token,))
            row = await cursor.fetchone()
        await _send(send, 200 if row else 404, msgspec.json.encode(row))
    else:
        await _send(send, 404, b"{}")
