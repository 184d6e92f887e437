"""Faults injected for real against PostgreSQL: held locks, slow statements, exhausted
connections, a stopped database and killed backends. The app must answer clearly, keep what it
acknowledged, never duplicate an order, and heal without a restart."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest
from litestar import Litestar

from gourmet.app import asgi_stack, create_app
from gourmet.config import DatabaseSettings, SecuritySettings, Settings
from gourmet.db.embedded import EmbeddedPostgres, start_embedded
from gourmet.db.types import Conn
from gourmet.services import runtime_of
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


def fault_settings(database_url: str, tmp_path: Path, **database: Any) -> Settings:
    """Small pools and short database bounds; ``database`` changes the database's settings."""
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(
            url=database_url,
            pool_min_size=1,
            pool_max_size=4,
            pool_timeout_s=1.0,
            lock_timeout_ms=300,
            statement_timeout_ms=2000,
        ),
        security=SecuritySettings(
            staff_token=STAFF_TOKEN,
            checkouts_per_client=0,  # every customer here is 127.0.0.1
        ),
    ).changed(database=database)


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[Client, Litestar]]:
    app = create_app(settings)
    async with serve(asgi_stack(app)) as client:
        yield client, app


async def until(check: Any, timeout_s: float = 5.0) -> Any:
    """Poll ``check()`` until it returns something truthy; fail after ``timeout_s``."""
    return await wait_for(check, bool, timeout_s)


def pickup(menu: FixtureMenu, item: int | None = None) -> dict[str, Any]:
    return checkout_body([{"item_id": item or menu.cake}])


async def test_held_row_lock_ends_by_lock_timeout_and_other_endpoints_work(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    placed = None
    async with running(fault_settings(database_url, tmp_path)) as (client, _):
        placed = (await client.post("/api/orders", json=pickup(menu))).json()
        async with (
            await psycopg.AsyncConnection.connect(database_url) as locker,
            locker.transaction(),
        ):
            await locker.execute("SELECT * FROM item WHERE id = %s FOR UPDATE", (menu.soup,))
            response = await client.post("/api/orders", json=pickup(menu, menu.soup))
            assert response.status_code == 503
            assert response.json()["type"] == "/problems/database-busy"
            assert "retry-after" in response.headers
            # The rest of the product keeps working meanwhile.
            assert (await client.get("/api/menu")).status_code == 200
            assert (await client.get(f"/api/orders/{placed['token']}")).status_code == 200
            assert (await client.post("/api/orders", json=pickup(menu))).status_code == 201
    row = await (
        await conn.execute("SELECT stock FROM item WHERE id = %s", (menu.soup,))
    ).fetchone()
    assert row == {"stock": 3}  # the refused checkout changed nothing


async def test_slow_statement_is_cancelled_by_statement_timeout(
    menu: FixtureMenu, database_url: str, tmp_path: Path
) -> None:
    settings = fault_settings(database_url, tmp_path, lock_timeout_ms=0, statement_timeout_ms=400)
    async with running(settings) as (client, _):
        async with (
            await psycopg.AsyncConnection.connect(database_url) as locker,
            locker.transaction(),
        ):
            await locker.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
            response = await client.post("/api/orders", json=pickup(menu))
        assert response.status_code == 503
        assert "took too long" in response.json()["detail"]
        assert (await client.post("/api/orders", json=pickup(menu))).status_code == 201


async def test_exhausted_database_connections_give_clear_503s_then_recover(
    menu: FixtureMenu, database_url: str, tmp_path: Path, admin_url: str
) -> None:
    settings = fault_settings(database_url, tmp_path, pool_min_size=0)
    async with running(settings) as (client, _app):
        # The app's sessions are ended, and another client takes every connection there is.
        hogs: list[psycopg.Connection[Any]] = []
        try:
            killer = psycopg.connect(admin_url, autocommit=True)
            hogs.append(killer)
            for _ in range(50):  # the pool reconnects at once, so take freed slots until none left
                with contextlib.suppress(psycopg.OperationalError):
                    while len(hogs) < 500:
                        hogs.append(psycopg.connect(admin_url))
                remaining = killer.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE application_name LIKE 'gourmet%%'"
                ).fetchone()
                if remaining == (0,):
                    break
            responses = await asyncio.gather(
                *(client.post("/api/orders", json=pickup(menu)) for _ in range(6))
            )
            assert {r.status_code for r in responses} == {503}
            assert all(
                r.headers["content-type"].startswith("application/problem+json") for r in responses
            )
            assert (await client.get("/api/menu")).status_code == 200
        finally:
            for hog in hogs:
                hog.close()

        async def ordered() -> bool:
            return (await client.post("/api/orders", json=pickup(menu))).status_code == 201

        await until(ordered)


async def _traffic(
    client: Client, menu: FixtureMenu, count: int, acknowledged: dict[str, str]
) -> None:
    """Checkouts with idempotency keys; remember every acknowledged order by its key."""
    for index in range(count):
        key = f"fault-{index}"
        response = await client.post(
            "/api/orders", json=pickup(menu), headers={"Idempotency-Key": key}
        )
        if response.status_code in (200, 201):
            acknowledged[key] = response.json()["token"]
        else:
            assert response.status_code == 503, response.text
        await anyio.sleep(0.01)


async def _assert_no_loss_no_duplicates(
    client: Client, menu: FixtureMenu, acknowledged: dict[str, str], keys: int, conn: Conn
) -> None:
    # Retrying every request with its key must find the acknowledged ones, and create the rest.
    for index in range(keys):
        key = f"fault-{index}"
        response = await client.post(
            "/api/orders", json=pickup(menu), headers={"Idempotency-Key": key}
        )
        assert response.status_code in (200, 201), response.text
        if key in acknowledged:
            assert response.status_code == 200
            assert response.json()["token"] == acknowledged[key]
    rows = await (
        await conn.execute("SELECT count(*) AS orders, count(DISTINCT token) AS tokens FROM orders")
    ).fetchone()
    assert rows == {"orders": keys, "tokens": keys}


async def test_database_stopped_and_restarted_mid_traffic(
    menu: FixtureMenu,
    database_url: str,
    tmp_path: Path,
    embedded_server: EmbeddedPostgres | None,
) -> None:
    if embedded_server is None:
        pytest.skip("restarting the database needs the embedded server")
    keys = 60
    acknowledged: dict[str, str] = {}
    async with running(fault_settings(database_url, tmp_path)) as (client, app):
        traffic = asyncio.create_task(_traffic(client, menu, keys, acknowledged))
        await until(lambda: _at_least(acknowledged, 5))
        await asyncio.to_thread(embedded_server.stop)
        await until(lambda: _not_ready(client))
        refused = await client.post("/api/orders", json=pickup(menu))
        assert refused.status_code == 503
        assert refused.json()["type"] == "/problems/database-unavailable"
        assert (await client.get("/api/menu")).status_code == 200  # still served from cache
        assert (await client.get("/healthz")).status_code == 200  # alive, just not ready
        await asyncio.to_thread(start_embedded, embedded_server.pgdata)
        await until(lambda: _ready(client), timeout_s=5.0)  # healed without a restart
        await traffic
        async with await psycopg.AsyncConnection.connect(
            database_url, autocommit=True, row_factory=psycopg.rows.dict_row
        ) as conn:
            await _assert_no_loss_no_duplicates(client, menu, acknowledged, keys, conn)
        assert runtime_of(app).services.pool.health.outages >= 1


async def test_killed_backends_heal_without_losing_orders(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    keys = 40
    acknowledged: dict[str, str] = {}
    async with running(fault_settings(database_url, tmp_path)) as (client, _):
        traffic = asyncio.create_task(_traffic(client, menu, keys, acknowledged))
        await until(lambda: _at_least(acknowledged, 5))
        killed = await (
            await conn.execute(
                "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity"
                " WHERE application_name LIKE 'gourmet%%' AND pid <> pg_backend_pid()"
            )
        ).fetchone()
        assert killed is not None
        assert killed["n"] >= 1
        await traffic
        await until(lambda: _ready(client))
        await _assert_no_loss_no_duplicates(client, menu, acknowledged, keys, conn)


async def _at_least(acknowledged: dict[str, str], count: int) -> bool:
    return len(acknowledged) >= count


async def _ready(client: Client) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def _not_ready(client: Client) -> bool:
    return (await client.get("/readyz")).status_code == 503
