"""Slot lists from memory: a crowd opening checkout costs one query, and every change (an
order, a release, a rule), made in this process or another, is seen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar

from gourmet.app import asgi_stack, create_app
from gourmet.config import Settings
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


@pytest.fixture
async def second_process(settings: Settings, menu: FixtureMenu) -> AsyncIterator[Client]:
    async with serve(asgi_stack(create_app(settings))) as other:
        yield other


def places_left(response_json: dict[str, object]) -> int:
    slots = response_json["slots"]
    assert isinstance(slots, list)
    return sum(slot["remaining"] for slot in slots)


async def test_a_crowd_opening_checkout_costs_one_read(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    cache = runtime_of(app).services.ordering.slot_cache

    async def loads_around_a_read() -> tuple[int, int]:
        start = cache.loads
        await client.get("/api/slots")
        return start, cache.loads

    # Settled: the listener's first resync after startup has come and gone.
    await wait_for(loads_around_a_read, lambda pair: pair[0] == pair[1])
    cache.forget()  # as an order would
    before = cache.loads
    answers = await asyncio.gather(*(client.get("/api/slots") for _ in range(30)))
    assert {answer.status_code for answer in answers} == {200}
    assert len({answer.content for answer in answers}) == 1
    assert cache.loads == before + 1
    await client.get("/api/slots")
    assert cache.loads == before + 1  # nothing changed: still held


async def test_an_order_placed_or_released_elsewhere_is_seen_within_a_second(
    client: Client, menu: FixtureMenu, second_process: Client
) -> None:
    before = places_left((await client.get("/api/slots")).json())
    placed = await second_process.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert placed.status_code == 201
    await wait_for(
        lambda: client.get("/api/slots"),
        lambda r: places_left(r.json()) == before - 1,
        timeout_s=1.0,
    )
    rejected = await second_process.post(
        f"/api/staff/orders/{placed.json()['number']}/status",
        json={"status": "rejected", "reason": "out of dough"},
        headers=STAFF_HEADERS,
    )
    assert rejected.status_code == 200
    await wait_for(
        lambda: client.get("/api/slots"),
        lambda r: places_left(r.json()) == before,
        timeout_s=1.0,
    )


async def test_a_rule_changed_elsewhere_is_seen_within_a_second(
    client: Client, menu: FixtureMenu, second_process: Client
) -> None:
    assert {s["capacity"] for s in (await client.get("/api/slots")).json()["slots"]} == {10}
    changed = await second_process.put(
        "/api/manage/capacity/pickup", json={"max_orders": 4}, headers=STAFF_HEADERS
    )
    assert changed.status_code == 200
    await wait_for(
        lambda: client.get("/api/slots"),
        lambda r: {s["capacity"] for s in r.json()["slots"]} == {4},
        timeout_s=1.0,
    )


async def test_the_process_that_changes_the_rules_shows_them_at_once(
    client: Client, menu: FixtureMenu
) -> None:
    await client.get("/api/slots")
    paused = await client.post(
        "/api/manage/pause", json={"paused": True, "message": "Back soon"}, headers=STAFF_HEADERS
    )
    assert paused.status_code == 200
    slots = (await client.get("/api/slots")).json()["slots"]
    assert slots
    assert not any(slot["available"] for slot in slots)
