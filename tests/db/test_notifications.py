"""The listener outlives its handlers' failures: its health probe and every other channel
depend on it."""

from __future__ import annotations

import pytest
from litestar import Litestar

from gourmet.db.notifications import ORDER_CHANNEL
from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from gourmet.services import runtime_of
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def test_a_failing_handler_does_not_end_the_listener(
    client: Client, app: Litestar, conn: Conn, menu: FixtureMenu
) -> None:
    services = runtime_of(app).services
    failures: list[str] = []

    async def broken(payload: str) -> None:
        failures.append(payload)
        raise RuntimeError("a handler that fails")

    services.hub.on(ORDER_CHANNEL, broken)
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.status_code == 201
    await wait_for(lambda: _noop(), lambda _: bool(failures), timeout_s=2.0)

    # Still listening: a menu change made afterwards reaches the cache, and health is up.
    await conn.execute("UPDATE item SET price_cents = 1234 WHERE id = %s", (menu.cake,))
    await menu_repo.notify_menu_changed(conn)
    await wait_for(
        lambda: client.get("/api/menu"),
        lambda r: any(
            item["price_cents"] == 1234
            for category in r.json()["categories"]
            for item in category["items"]
        ),
        timeout_s=2.0,
    )
    assert services.pool.health.up


async def _noop() -> None:
    return None
