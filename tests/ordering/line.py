"""The waiting line against the real app and PostgreSQL: a checkout capacity of one, an orders
table another session holds, and clients that leave (used by test_waiting_line.py and
test_departed_clients.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psycopg

from gourmet.app import asgi_stack, create_app
from gourmet.asgi import ASGIApp, Message
from gourmet.config import AdmissionSettings, DatabaseSettings, SecuritySettings, Settings
from gourmet.db.types import Conn
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.services import runtime_of
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_until
from tests.serving import Client, serve


def one_at_a_time(database_url: str, tmp_path: Path) -> Settings:
    """Checkout capacity of one: a pool of one connection and a limit of one."""
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(
            url=database_url, pool_min_size=1, pool_max_size=1, lock_timeout_ms=2500
        ),
        security=SecuritySettings(staff_token=STAFF_TOKEN, checkouts_per_client=0),
        admission=AdmissionSettings(
            limiter_initial=1, limiter_min=1, limiter_max=1, waiting_room_hold_s=5.0
        ),
    )


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[Client, ASGIApp, AdmissionMiddleware]]:
    app = create_app(settings)
    stack = asgi_stack(app)
    admission = runtime_of(app).admission
    assert admission is not None
    async with serve(stack) as client:
        yield client, stack, admission


@contextlib.asynccontextmanager
async def orders_locked(database_url: str) -> AsyncIterator[None]:
    """Another session holds the orders table: a checkout admitted now blocks at its insert,
    keeping checkout's only place busy."""
    async with (
        await psycopg.AsyncConnection.connect(database_url) as locker,
        locker.transaction(),
    ):
        await locker.execute("LOCK TABLE orders IN EXCLUSIVE MODE")
        yield


async def post_and_leave(
    stack: ASGIApp, body: dict[str, Any], key: str, leave: asyncio.Event
) -> list[Message]:
    """POST /api/orders as a server would pass it on, from a client that goes away once
    ``leave`` is set (the server then sees ``http.disconnect``); return what was sent to it."""
    data = json.dumps(body).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/orders",
        "raw_path": b"/api/orders",
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"idempotency-key", key.encode()),
        ],
        "state": {},
    }
    pending = [{"type": "http.request", "body": data, "more_body": False}]
    sent: list[Message] = []

    async def receive() -> Message:
        if pending:
            return pending.pop()
        await leave.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await stack(scope, receive, send)
    return sent


async def behind_a_blocked_checkout(
    client: Client,
    stack: ASGIApp,
    admission: AdmissionMiddleware,
    body: dict[str, Any],
    key: str,
    leave: asyncio.Event,
) -> tuple[asyncio.Task[Any], asyncio.Task[list[Message]]]:
    """A first checkout takes the only place (and blocks on the held lock); then a customer who
    will leave once ``leave`` is set joins the line. Their two tasks."""
    first_body = checkout_body([{"item_id": body["lines"][0]["item_id"]}], name="First")
    first = asyncio.create_task(
        client.post("/api/orders", json=first_body, headers={"Idempotency-Key": "a"})
    )
    await wait_until(lambda: admission.limiter.in_flight == 1)
    leaving = asyncio.create_task(post_and_leave(stack, body, key, leave))
    await wait_until(lambda: len(admission.room or ()) == 1)
    return first, leaving


async def order_count(conn: Conn) -> int:
    row = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert row is not None
    return int(row["n"])


async def keys_claimed(conn: Conn, key: str) -> int:
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM checkout_request WHERE idempotency_key = %s", (key,)
        )
    ).fetchone()
    assert row is not None
    return int(row["n"])


def cake(menu: FixtureMenu, name: str) -> dict[str, Any]:
    return checkout_body([{"item_id": menu.cake}], name=name)
