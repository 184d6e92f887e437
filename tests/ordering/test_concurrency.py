"""Races with real concurrent PostgreSQL sessions: slots, stock and idempotency keys."""

from __future__ import annotations

import asyncio
from collections import Counter

import psycopg
import pytest

from gourmet.db.types import Conn
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def test_fifty_checkouts_for_ten_places_give_exactly_ten_orders(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    slot = (await client.get("/api/slots")).json()["slots"][0]["start"]
    body = checkout_body([{"item_id": menu.cake}], slot=slot)
    responses = await asyncio.gather(*(client.post("/api/orders", json=body) for _ in range(50)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 10, 409: 40}
    row = await (
        await conn.execute(
            "SELECT (SELECT count(*) FROM orders) AS orders,"
            " (SELECT booked FROM slot_booking WHERE slot_start = %s) AS booked",
            (slot,),
        )
    ).fetchone()
    assert row == {"orders": 10, "booked": 10}


async def peak_backends(conn: Conn, stop: asyncio.Event) -> int:
    """The most sessions the app held at once, sampled until ``stop`` is set."""
    peak = 0
    while not stop.is_set():
        row = await (
            await conn.execute(
                "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name LIKE 'gourmet%%'"
            )
        ).fetchone()
        peak = max(peak, row["n"] if row else 0)
        await asyncio.sleep(0)
    return peak


async def test_concurrent_asap_orders_spill_into_later_slots(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    await conn.execute("UPDATE slot_capacity SET max_orders = 3 WHERE fulfilment = 'pickup'")
    body = checkout_body([{"item_id": menu.cake}])
    responses = await asyncio.gather(*(client.post("/api/orders", json=body) for _ in range(12)))
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses]
    per_slot = Counter(r.json()["slot_start"] for r in responses)
    assert sorted(per_slot.values()) == [3, 3, 3, 3]


async def test_stock_is_never_oversold(client: Client, menu: FixtureMenu, conn: Conn) -> None:
    body = checkout_body([{"item_id": menu.soup, "quantity": 1}])
    responses = await asyncio.gather(*(client.post("/api/orders", json=body) for _ in range(10)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 3, 409: 7}
    row = await (
        await conn.execute("SELECT stock FROM item WHERE id = %s", (menu.soup,))
    ).fetchone()
    assert row == {"stock": 0}


async def test_one_key_sent_at_once_gives_one_order(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    body = checkout_body([{"item_id": menu.cake, "quantity": 2}])
    headers = {"Idempotency-Key": "same-key-twenty-times"}
    responses = await asyncio.gather(
        *(client.post("/api/orders", json=body, headers=headers) for _ in range(20))
    )
    assert Counter(r.status_code for r in responses) == {201: 1, 200: 19}
    assert len({r.json()["token"] for r in responses}) == 1
    row = await (
        await conn.execute(
            "SELECT (SELECT count(*) FROM orders) AS orders,"
            " (SELECT sum(booked) FROM slot_booking) AS booked"
        )
    ).fetchone()
    assert row == {"orders": 1, "booked": 1}


async def test_option_deleted_during_checkout_is_a_clear_409(
    client: Client, menu: FixtureMenu, conn: Conn, database_url: str
) -> None:
    body = checkout_body(
        [{"item_id": menu.pizza, "quantity": 1, "option_ids": [menu.size_small, menu.extra_basil]}]
    )
    async with await psycopg.AsyncConnection.connect(database_url) as manager:
        await manager.execute("DELETE FROM modifier_option WHERE id = %s", (menu.extra_basil,))
        # The checkout reads the option (the delete is not committed), then waits on its row lock.
        checkout = asyncio.create_task(client.post("/api/orders", json=body))
        await until_waiting(conn)
        await manager.commit()
    response = await checkout
    assert response.status_code == 409, response.text
    assert response.json()["type"] == "/problems/menu-changed"
    row = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert row == {"n": 0}


async def until_waiting(conn: Conn) -> None:
    """Poll until an app session waits on a lock (deadline 5 s)."""

    async def waiting() -> int:
        row = await (
            await conn.execute(
                "SELECT count(*) AS n FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND application_name = 'gourmet'"
            )
        ).fetchone()
        return int(row["n"]) if row else 0

    await wait_for(waiting, lambda n: n > 0)
