"""A customer cancels their own order from its tracking link until the kitchen takes it: the
order ends "cancelled" by the customer, its slot place goes back; once the kitchen has accepted
it the answer is 409 and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def place(client: Client, menu: FixtureMenu) -> dict[str, Any]:
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.soup}]))
    assert placed.status_code == 201, placed.text
    order: dict[str, Any] = placed.json()
    return order


async def soup_left(conn: Conn, menu: FixtureMenu) -> int:
    row = await (
        await conn.execute("SELECT stock FROM item WHERE id = %s", (menu.soup,))
    ).fetchone()
    assert row is not None
    return int(row["stock"])


async def test_a_customer_cancels_a_new_order_and_its_stock_goes_back(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    before = await soup_left(conn, menu)
    order = await place(client, menu)
    assert await soup_left(conn, menu) == before - 1
    cancelled = await client.post(f"/api/orders/{order['token']}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    seen = cancelled.json()
    assert seen["status"] == "cancelled"
    assert seen["history"][-1] | {"at": ""} == {
        "status": "cancelled",
        "at": "",
        "actor": "customer",
        "reason": "Cancelled by the customer",
    }
    assert await soup_left(conn, menu) == before
    again = await client.post(f"/api/orders/{order['token']}/cancel")
    assert again.status_code == 409
    assert again.json()["type"].endswith("/too-late-to-cancel")


async def test_once_the_kitchen_has_accepted_the_customer_is_told_to_call(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    order = await place(client, menu)
    accepted = await client.post(
        f"/api/staff/orders/{order['number']}/status",
        json={"status": "accepted"},
        headers=STAFF_HEADERS,
    )
    assert accepted.status_code == 200
    refused = await client.post(f"/api/orders/{order['token']}/cancel")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == "accepted"
    assert "call the restaurant" in refused.json()["detail"]
    seen = (await client.get(f"/api/orders/{order['token']}")).json()
    assert seen["status"] == "accepted"
    assert [h["status"] for h in seen["history"]] == ["received", "accepted"]
    missing = await client.post("/api/orders/no-such-token/cancel")
    assert missing.status_code == 404
