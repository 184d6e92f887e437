"""Staff endpoints: the credential, the open-order list and the status workflow."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import Response

from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def place(client: Client, menu: FixtureMenu, **kwargs: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.soup, "quantity": 2}], **kwargs)
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def move(client: Client, number: int, status: str, reason: str | None = None) -> Response:
    return await client.post(
        f"/api/staff/orders/{number}/status",
        json={"status": status, "reason": reason},
        headers=STAFF_HEADERS,
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdA=="}],
)
async def test_staff_endpoints_need_the_credential(
    client: Client, menu: FixtureMenu, headers: dict[str, str]
) -> None:
    order = await place(client, menu)
    listing = await client.get("/api/staff/orders", headers=headers)
    change = await client.post(
        f"/api/staff/orders/{order['number']}/status", json={"status": "accepted"}, headers=headers
    )
    for response in (listing, change):
        assert response.status_code == 401
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert (await client.get(f"/api/orders/{order['token']}")).json()["status"] == "received"


async def test_order_moves_through_its_statuses_with_history(
    client: Client, menu: FixtureMenu
) -> None:
    order = await place(client, menu, notes="no onions")
    listed = (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json()
    assert [o["token"] for o in listed] == [order["token"]]
    assert listed[0]["notes"] == "no onions"
    for status in ("accepted", "preparing", "ready", "completed"):
        response = await move(client, order["number"], status)
        assert response.status_code == 200, response.text
    tracked = (await client.get(f"/api/orders/{order['token']}")).json()
    assert tracked["status"] == "completed"
    assert [h["status"] for h in tracked["history"]] == [
        "received",
        "accepted",
        "preparing",
        "ready",
        "completed",
    ]
    assert [h["actor"] for h in tracked["history"]] == ["customer"] + ["staff token"] * 4
    assert (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json() == []


async def test_invalid_transition_is_refused_and_changes_nothing(
    client: Client, menu: FixtureMenu
) -> None:
    order = await place(client, menu)
    response = await move(client, order["number"], "completed")
    assert response.status_code == 409
    body = response.json()
    assert body["allowed"] == ["accepted", "cancelled", "rejected"]
    tracked = (await client.get(f"/api/orders/{order['token']}")).json()
    assert tracked["status"] == "received"
    assert len(tracked["history"]) == 1


async def test_reject_needs_a_reason_and_gives_slot_and_stock_back(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    order = await place(client, menu)
    assert (await move(client, order["number"], "rejected")).status_code == 422
    response = await move(client, order["number"], "rejected", "Soup pot broke")
    assert response.status_code == 200
    tracked = response.json()
    assert tracked["rejection_reason"] == "Soup pot broke"
    assert tracked["history"][-1]["reason"] == "Soup pot broke"
    row = await (
        await conn.execute(
            "SELECT (SELECT stock FROM item WHERE id = %s) AS stock,"
            " (SELECT sum(booked) FROM slot_booking) AS booked",
            (menu.soup,),
        )
    ).fetchone()
    assert row == {"stock": 3, "booked": 0}


async def test_delivery_orders_go_out_for_delivery(client: Client, menu: FixtureMenu) -> None:
    response = await client.post(
        "/api/orders",
        json=checkout_body(
            [{"item_id": menu.pizza, "quantity": 2, "option_ids": [menu.size_small]}],
            fulfilment="delivery",
            address={"line1": "1 High St", "postcode": "AB1 1AA"},
        ),
    )
    number = response.json()["number"]
    for status in ("accepted", "preparing", "ready"):
        await move(client, number, status)
    assert (await move(client, number, "completed")).status_code == 409
    assert (await move(client, number, "out_for_delivery")).status_code == 200
    assert (await move(client, number, "delivered")).json()["status"] == "delivered"


async def test_unknown_order_is_404(client: Client, menu: FixtureMenu) -> None:
    assert (await move(client, 424242, "accepted")).status_code == 404
