"""Prep time per item, and ASAP quotes from the kitchen's backlog (issue 24, item 1)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gourmet.ordering.checkout.slot_repository import RestaurantRules
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio

LEAD = 10  # the fixture restaurant's lead time
SLOT = 15  # and its slot length


def rules(lead: int = 20, at_once: int | None = None, backlog: int = 0) -> RestaurantRules:
    return RestaurantRules(0, 15, lead, False, "", orders_at_once=at_once, backlog_minutes=backlog)


@pytest.mark.parametrize(
    ("lead", "at_once", "backlog", "make", "quote"),
    [
        (20, None, 500, None, 20),  # backlog not counted: the lead time
        (20, None, 500, 35, 35),  # a long item: its prep time
        (20, 3, 0, None, 20),  # an idle kitchen: the lead time
        (20, 3, 0, 5, 20),  # never sooner than the lead time
        (20, 3, 90, 25, 55),  # 90 make-minutes ahead over 3 at once, then 25 to make
        (20, 2, 45, 15, 38),  # 22.5 + 15, rounded up
        (0, 1, 0, 1, 1),
    ],
)
def test_quotes(lead: int, at_once: int | None, backlog: int, make: int | None, quote: int) -> None:
    assert rules(lead, at_once, backlog).quote_minutes(make) == quote


async def set_kitchen(client: Client, *, orders_at_once: int | None) -> None:
    body = {"tax_rate_bp": 1000, "slot_minutes": SLOT, "lead_minutes": LEAD}
    response = await client.put(
        "/api/manage/settings",
        json={**body, "orders_at_once": orders_at_once},
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 200, response.text
    assert response.json()["orders_at_once"] == orders_at_once


async def set_prep(client: Client, item_id: int, minutes: int | None) -> dict[str, Any]:
    response = await client.patch(
        f"/api/manage/items/{item_id}", json={"prep_minutes": minutes}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text
    item: dict[str, Any] = response.json()
    return item


async def asap_minutes(client: Client) -> int:
    body = (await client.get("/api/slots")).json()
    return int(body["asap_minutes"])


async def order_asap(client: Client, item_id: int) -> dict[str, Any]:
    response = await client.post("/api/orders", json=checkout_body([{"item_id": item_id}]))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


def ready_in(order: dict[str, Any]) -> timedelta:
    placed = datetime.fromisoformat(order["created_at"]).astimezone(UTC)
    return datetime.fromisoformat(order["estimated_ready_at"]).astimezone(UTC) - placed


async def test_asap_quotes_follow_the_kitchens_backlog(client: Client, menu: FixtureMenu) -> None:
    # Without orders_at_once quotes are the lead time, whatever is cooking.
    await order_asap(client, menu.cake)
    assert await asap_minutes(client) == LEAD
    await set_kitchen(client, orders_at_once=2)
    # One cake (the lead time, 10 minutes, to make) is ahead: 10 / 2 + 10.
    assert await asap_minutes(client) == 15
    assert (await set_prep(client, menu.cake, 40))["prep_minutes"] == 40
    served = [await order_asap(client, menu.cake) for _ in range(3)]
    # Ahead now: 10 + 3 x 40 make-minutes over 2 at once, then the default 10.
    assert await asap_minutes(client) == 75
    # A new cake is quoted with its own 40 minutes, and takes a slot no sooner than that.
    late = await order_asap(client, menu.cake)
    assert ready_in(late) >= timedelta(minutes=65 + 40)
    assert ready_in(late) < timedelta(minutes=65 + 40 + SLOT + 1)
    # A slot the lead time alone would allow, sooner than the kitchen can make the cake:
    # refused, naming a slot it can.
    soon = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}], slot=slot_after(LEAD))
    )
    assert soon.status_code == 422, soon.text
    assert soon.json()["type"] == "/problems/outside-opening-hours"
    named = datetime.fromisoformat(soon.json()["next_free_slot"])
    assert named - datetime.now(UTC) >= timedelta(minutes=75 + 30 - 1)
    # The kitchen finishes what it had: the quote comes down again.
    for order in [*served, late]:
        for status in ("accepted", "preparing", "ready"):
            moved = await client.post(
                f"/api/staff/orders/{order['number']}/status",
                json={"status": status},
                headers=STAFF_HEADERS,
            )
            assert moved.status_code == 200, moved.text
    assert await asap_minutes(client) == 15  # the first cake is still to make
    await set_kitchen(client, orders_at_once=None)
    assert await asap_minutes(client) == LEAD


def slot_after(minutes: int) -> str:
    """The first slot boundary at least ``minutes`` from now."""
    soonest = datetime.now(UTC) + timedelta(minutes=minutes + 1)
    start = soonest.replace(second=0, microsecond=0)
    start += timedelta(minutes=(-start.minute) % SLOT)
    return start.isoformat()


async def test_prep_time_is_checked_and_kept(client: Client, menu: FixtureMenu) -> None:
    for bad in (0, 241, "ten"):
        refused = await client.patch(
            f"/api/manage/items/{menu.cake}", json={"prep_minutes": bad}, headers=STAFF_HEADERS
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["field"] == "prep_minutes"
    assert (await set_prep(client, menu.cake, 25))["prep_minutes"] == 25

    # Customers see it once the menu cache has reloaded (on NOTIFY).
    async def cake_prep() -> Any:
        categories = (await client.get("/api/menu")).json()["categories"]
        return {i["name"]: i["prep_minutes"] for c in categories for i in c["items"]}["Cake"]

    await wait_for(cake_prep, lambda minutes: minutes == 25)
    assert (await set_prep(client, menu.cake, None))["prep_minutes"] is None
