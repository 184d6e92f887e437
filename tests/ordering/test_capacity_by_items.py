"""Slot capacity counted in items, at the API against PostgreSQL: an order takes as many places
as it has items, gives them all back when it ends unserved, and one larger than a slot is told
so instead of "full"."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def remaining(client: Client, start: str) -> int:
    slots = (await client.get("/api/slots?fulfilment=pickup")).json()["slots"]
    return int(next(s["remaining"] for s in slots if s["start"] == start))


async def order(client: Client, menu: FixtureMenu, quantity: int, slot: str) -> Any:
    body = checkout_body([{"item_id": menu.cake, "quantity": quantity}], slot=slot)
    return await client.post("/api/orders", json=body)


async def test_a_slot_holds_items_not_orders(client: Client, menu: FixtureMenu) -> None:
    settings = {
        "tax_rate_bp": 1000,
        "slot_minutes": 15,
        "lead_minutes": 10,
        "capacity_unit": "items",
    }
    changed = await client.put("/api/manage/settings", json=settings, headers=STAFF_HEADERS)
    assert changed.status_code == 200, changed.text
    assert changed.json()["capacity_unit"] == "items"
    await client.put("/api/manage/capacity/pickup", json={"max_orders": 5}, headers=STAFF_HEADERS)
    slot = (await client.get("/api/slots?fulfilment=pickup")).json()["slots"][3]["start"]

    three = await order(client, menu, 3, slot)
    assert three.status_code == 201, three.text
    assert await remaining(client, slot) == 2
    too_many = await order(client, menu, 3, slot)
    assert too_many.status_code == 409
    assert too_many.json()["type"] == "/problems/slot-full"
    assert (await order(client, menu, 2, slot)).status_code == 201
    assert await remaining(client, slot) == 0

    rejected = await client.post(
        f"/api/staff/orders/{three.json()['number']}/status",
        json={"status": "rejected", "reason": "no cake"},
        headers=STAFF_HEADERS,
    )
    assert rejected.status_code == 200
    assert await remaining(client, slot) == 3  # all three items' places back

    huge = await order(client, menu, 6, slot)
    assert huge.status_code == 409
    assert huge.json()["detail"].startswith(
        "This order has 6 items and a time slot takes at most 5"
    )


async def test_orders_are_counted_one_each_by_default(client: Client, menu: FixtureMenu) -> None:
    slot = (await client.get("/api/slots?fulfilment=pickup")).json()["slots"][3]["start"]
    before = await remaining(client, slot)
    assert (await order(client, menu, 4, slot)).status_code == 201
    assert await remaining(client, slot) == before - 1
