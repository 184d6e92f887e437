"""Busy mode and the moving estimate, at the API against PostgreSQL: one tap adds lead time for a
while, moves the estimates of orders not yet ready (never earlier), records who did it, resets
itself; the board lists the soonest due first."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.kitchen.busy import AutoBusy
from gourmet.services import runtime_of
from tests.accounts.helpers import CSRF, sign_up
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.kitchen.test_staff_api import move
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def busy(client: Client, extra: int, for_minutes: int = 60) -> dict[str, Any]:
    response = await client.post(
        "/api/staff/busy",
        json={"extra_minutes": extra, "for_minutes": for_minutes},
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 200, response.text
    state: dict[str, Any] = response.json()
    return state


async def place(client: Client, menu: FixtureMenu, **kwargs: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}], **kwargs)
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def ready_at(client: Client, token: str) -> datetime:
    order = (await client.get(f"/api/orders/{token}")).json()
    return datetime.fromisoformat(order["estimated_ready_at"])


async def test_busy_mode_moves_waiting_orders_and_new_ones_later(
    client: Client, menu: FixtureMenu
) -> None:
    waiting = await place(client, menu)
    cooking = await place(client, menu)
    done = await place(client, menu)
    for status in ("accepted", "preparing"):
        assert (await move(client, cooking["number"], status)).status_code == 200
    for status in ("accepted", "preparing", "ready"):
        assert (await move(client, done["number"], status)).status_code == 200
    before = {o["token"]: await ready_at(client, o["token"]) for o in (waiting, cooking, done)}

    state = await busy(client, 20)
    assert (state["extra_minutes"], state["set_by"]) == (20, "staff token")
    assert state["until"] is not None
    for order in (waiting, cooking):
        moved = await ready_at(client, order["token"])
        assert moved - max(before[order["token"]], datetime.now(moved.tzinfo)) >= timedelta(
            minutes=19
        )
        history = (await client.get(f"/api/orders/{order['token']}")).json()["history"]
        assert (history[-1]["reason"], history[-1]["actor"]) == (
            "Delayed by 20 minutes: the kitchen is busy",
            "staff token",
        )
    assert await ready_at(client, done["token"]) == before[done["token"]]  # it is ready

    # A new order now is at least the usual lead (10 min) plus 20 away.
    fresh = await place(client, menu)
    start = datetime.fromisoformat(fresh["slot_start"])
    assert start - datetime.now(start.tzinfo) >= timedelta(minutes=29)


async def test_less_busy_never_moves_an_estimate_earlier(client: Client, menu: FixtureMenu) -> None:
    order = await place(client, menu)
    await busy(client, 30)
    after_30 = await ready_at(client, order["token"])
    await busy(client, 10)
    assert await ready_at(client, order["token"]) == after_30
    await busy(client, 25)  # 15 more than now
    assert await ready_at(client, order["token"]) - after_30 >= timedelta(minutes=15)
    await busy(client, 0)
    state = (await client.get("/api/staff/busy", headers=STAFF_HEADERS)).json()
    assert state["extra_minutes"] == 0


async def test_busy_mode_ends_by_itself(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    await busy(client, 45, for_minutes=5)
    await conn.execute("UPDATE busy_mode SET busy_until = now() - interval '1 second'")
    state = (await client.get("/api/staff/busy", headers=STAFF_HEADERS)).json()
    assert (state["extra_minutes"], state["until"]) == (0, None)
    fresh = await place(client, menu)
    start = datetime.fromisoformat(fresh["slot_start"])
    assert start - datetime.now(start.tzinfo) < timedelta(minutes=45)


async def test_the_board_lists_the_soonest_due_first(client: Client, menu: FixtureMenu) -> None:
    slots = (await client.get("/api/slots?fulfilment=pickup")).json()["slots"]
    later = await place(client, menu, slot=slots[5]["start"])
    soon = await place(client, menu)
    board = (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json()
    assert [o["number"] for o in board] == [soon["number"], later["number"]]


@pytest.mark.parametrize(
    "body", [{"extra_minutes": 121}, {"extra_minutes": -5}, {"extra_minutes": 10, "for_minutes": 1}]
)
async def test_out_of_range_is_refused(
    client: Client, menu: FixtureMenu, body: dict[str, int]
) -> None:
    response = await client.post("/api/staff/busy", json=body, headers=STAFF_HEADERS)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_customer_cannot_make_the_kitchen_busy(client: Client, menu: FixtureMenu) -> None:
    ada = await sign_up(client, "ada@example.com")
    response = await client.post(
        "/api/staff/busy", json={"extra_minutes": 30}, headers={**ada, **CSRF}
    )
    assert response.status_code == 403


async def test_a_backlog_turns_busy_mode_on_by_itself(
    client: Client, menu: FixtureMenu, app: Litestar
) -> None:
    services = runtime_of(app).services
    auto = AutoBusy(services.pool, services.busy, backlog=3, extra_minutes=15)
    first, second = await place(client, menu), await place(client, menu)
    assert await auto() is False  # two waiting: not yet
    third = await place(client, menu)
    before = await ready_at(client, third["token"])
    assert await auto() is True
    state = (await client.get("/api/staff/busy", headers=STAFF_HEADERS)).json()
    assert (state["extra_minutes"], state["set_by"]) == (15, "automatic: 3 orders waiting")
    assert await ready_at(client, third["token"]) - before >= timedelta(minutes=14)
    assert await auto() is False  # already busy: nothing moves twice
    assert {first["number"], second["number"]} <= {
        o["number"] for o in (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json()
    }
