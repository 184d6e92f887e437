"""Phone orders at the API against PostgreSQL: staff enter an order for a caller under the same
rules as online (prices, slots, capacity, the pause), attributed to them; only a manager may
override a full slot or the pause, and the override is recorded."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.db.types import Conn
from tests.accounts.helpers import CSRF, PASSWORD, sign_in, sign_up
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def staff_member(client: Client, email: str, role: str) -> dict[str, str]:
    created = await client.post(
        "/api/admin/accounts",
        json={"email": email, "password": PASSWORD, "role": role, "name": "Sam"},
        headers=STAFF_HEADERS,
    )
    assert created.status_code == 201, created.text
    return {**await sign_in(client, email), **CSRF}


def phone_body(menu: FixtureMenu, **extra: Any) -> dict[str, Any]:
    body = checkout_body([{"item_id": menu.pizza, "option_ids": [menu.size_large]}], name="Caller")
    del body["customer"]["email"]
    return {**body, **extra}


async def test_staff_enter_an_order_for_a_caller(client: Client, menu: FixtureMenu) -> None:
    sam = await staff_member(client, "sam@example.com", "staff")
    response = await client.post("/api/staff/orders", json=phone_body(menu), headers=sam)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["totals"]["subtotal_cents"] == 1300  # priced as online: 1000 + large 300
    first = order["history"][0]
    assert (first["status"], first["actor"], first["reason"]) == (
        "received",
        "sam@example.com",
        "Taken by phone",
    )
    assert (await client.get(f"/api/orders/{order['token']}")).json() == order
    board = (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json()
    assert [o["token"] for o in board] == [order["token"]]


async def test_a_full_slot_needs_a_managers_override_which_is_recorded(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    await conn.execute("UPDATE slot_capacity SET max_orders = 1")
    slot = (await client.get("/api/slots?fulfilment=pickup")).json()["slots"][2]["start"]
    online = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}], slot=slot)
    )
    assert online.status_code == 201
    sam = await staff_member(client, "sam@example.com", "staff")
    full = await client.post("/api/staff/orders", json=phone_body(menu, slot=slot), headers=sam)
    assert full.status_code == 409, full.text
    assert full.json()["type"] == "/problems/slot-full"
    refused = await client.post(
        "/api/staff/orders", json=phone_body(menu, slot=slot, override=True), headers=sam
    )
    assert refused.status_code == 403, refused.text
    mia = await staff_member(client, "mia@example.com", "manager")
    taken = await client.post(
        "/api/staff/orders", json=phone_body(menu, slot=slot, override=True), headers=mia
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["slot_start"] == online.json()["slot_start"]
    first = taken.json()["history"][0]
    assert first["actor"] == "mia@example.com"
    assert (
        first["reason"] == "Taken by phone; manager override: slot capacity and pause not applied"
    )


async def test_the_pause_holds_for_phone_orders_unless_a_manager_overrides(
    client: Client, menu: FixtureMenu
) -> None:
    paused = await client.post(
        "/api/manage/pause", json={"paused": True, "message": "Oven broken"}, headers=STAFF_HEADERS
    )
    assert paused.status_code == 200
    refused = await client.post("/api/staff/orders", json=phone_body(menu), headers=STAFF_HEADERS)
    assert refused.status_code == 409, refused.text
    taken = await client.post(
        "/api/staff/orders", json=phone_body(menu, override=True), headers=STAFF_HEADERS
    )
    assert taken.status_code == 201, taken.text  # the staff token counts as admin


async def test_a_phone_order_is_paid_at_pickup(client: Client, menu: FixtureMenu) -> None:
    response = await client.post(
        "/api/staff/orders",
        json=phone_body(menu, payment="card", card_token="tok_visa"),
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/phone-order-by-card"


async def test_customers_cannot_enter_phone_orders(client: Client, menu: FixtureMenu) -> None:
    ada = await sign_up(client, "ada@example.com")
    response = await client.post(
        "/api/staff/orders", json=phone_body(menu), headers={**ada, **CSRF}
    )
    assert response.status_code == 403
    anonymous = await client.post("/api/staff/orders", json=phone_body(menu))
    assert anonymous.status_code == 401
