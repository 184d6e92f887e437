"""Order status from memory: served without the database, current across processes, bounded,
and still served while the database is away."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar

from gourmet.app import asgi_stack, create_app
from gourmet.config import Settings
from gourmet.ordering import repository as repo
from gourmet.ordering.tracking import book as tracking
from gourmet.ordering.tracking import repository as tracking_repo
from gourmet.ordering.tracking.book import OrderBook
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


async def place(client: Client, menu: FixtureMenu) -> dict[str, Any]:
    response = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert response.status_code == 201
    order: dict[str, Any] = response.json()
    return order


def database_reads(app: Litestar) -> int:
    return int(runtime_of(app).services.pool.stats()["requests_num"])


@pytest.fixture
async def second_process(settings: Settings, menu: FixtureMenu) -> AsyncIterator[Client]:
    """Another Gourmet on the same database, with its own listener, pool and memory: a second
    process as far as orders are concerned."""
    async with serve(asgi_stack(create_app(settings))) as other:
        yield other


async def test_a_placed_order_is_tracked_without_the_database(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    order = await place(client, menu)
    before = database_reads(app)
    for _ in range(20):
        response = await client.get(f"/api/orders/{order['token']}")
        assert response.status_code == 200
    assert response.json() == order
    assert database_reads(app) == before
    assert runtime_of(app).services.order_book.hits >= 20


async def test_an_order_not_held_costs_one_read_then_none(
    client: Client, app: Litestar, menu: FixtureMenu, second_process: Client
) -> None:
    order = await place(second_process, menu)  # placed elsewhere: not held here
    before = database_reads(app)
    first = await client.get(f"/api/orders/{order['token']}")
    assert first.json()["status"] == "received"
    for _ in range(5):
        await client.get(f"/api/orders/{order['token']}")
    assert database_reads(app) == before + 1
    missing = await client.get("/api/orders/no-such-token")
    assert missing.status_code == 404


async def test_a_change_made_in_one_process_is_seen_by_another_within_a_second(
    client: Client, menu: FixtureMenu, second_process: Client
) -> None:
    order = await place(client, menu)
    held = await second_process.get(f"/api/orders/{order['token']}")
    assert held.json()["status"] == "received"
    moved = await client.post(
        f"/api/staff/orders/{order['number']}/status",
        json={"status": "accepted"},
        headers=STAFF_HEADERS,
    )
    assert moved.status_code == 200
    seen = await wait_for(
        lambda: second_process.get(f"/api/orders/{order['token']}"),
        lambda r: r.json()["status"] == "accepted",
        timeout_s=1.0,
    )
    assert [change["status"] for change in seen.json()["history"]] == ["received", "accepted"]


async def test_the_process_that_changes_an_order_answers_with_the_change_at_once(
    client: Client, menu: FixtureMenu
) -> None:
    order = await place(client, menu)
    await client.post(
        f"/api/staff/orders/{order['number']}/status",
        json={"status": "accepted"},
        headers=STAFF_HEADERS,
    )
    # No waiting: the writer marked it before its own notice came back.
    assert (await client.get(f"/api/orders/{order['token']}")).json()["status"] == "accepted"


async def test_held_orders_are_served_while_the_database_is_down(
    client: Client, app: Litestar, menu: FixtureMenu, second_process: Client
) -> None:
    held = await place(client, menu)
    changed = await place(client, menu)
    not_held = await place(second_process, menu)
    services = runtime_of(app).services
    services.pool.health.mark_down()
    # The listener lost its connection: nothing held is known to be current any more.
    services.order_book.lost()
    try:
        for order in (held, changed):
            response = await client.get(f"/api/orders/{order['token']}")
            assert response.status_code == 200
            assert response.json()["token"] == order["token"]
        page = await client.get(f"/orders/{held['token']}")
        assert page.status_code == 200
        unknown = await client.get(f"/api/orders/{not_held['token']}")
        assert unknown.status_code == 503
        assert unknown.json()["type"] == "/problems/database-unavailable"
    finally:
        services.pool.health.mark_up()


async def test_memory_holds_at_most_its_capacity(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    tokens = [(await place(client, menu))["token"] for _ in range(4)]
    book = OrderBook(runtime_of(app).services.pool, capacity=2)
    for token in tokens:
        await book.order(token)
    assert len(book) == 2
    assert book.fresh_json(tokens[0]) is None  # the least recently read went first
    assert book.fresh_json(tokens[3]) is not None


async def test_a_read_that_raced_with_a_change_is_not_served_as_current(
    client: Client, app: Litestar, menu: FixtureMenu, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = (await place(client, menu))["token"]
    book = OrderBook(runtime_of(app).services.pool, capacity=10)
    read = tracking_repo.order_view_row

    async def read_then_hear_of_a_change(conn: Any, wanted: str) -> Any:
        row = await read(conn, wanted)
        assert row is not None
        # The notice of another commit (version 2) arrives while this read (version 1) is out.
        await book.on_change(repo.notice(wanted, row["version"] + 1))
        return row

    monkeypatch.setattr(tracking_repo, "order_view_row", read_then_hear_of_a_change)
    view = await book.order(token)
    assert view.token == token
    assert book.fresh_json(token) is None  # held, but the next read goes to the database
    await book.on_change(repo.notice(token, 1))  # an old notice changes nothing
    assert book.fresh_json(token) is None


async def test_stale_orders_are_refreshed_in_batches(
    client: Client, app: Litestar, menu: FixtureMenu, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = runtime_of(app).services.order_book
    tokens = [(await place(client, menu))["token"] for _ in range(3)]
    monkeypatch.setattr(tracking, "REFRESH_BATCH", 2)
    book.lost()  # as when the listener reconnects: every view is read again
    assert all(book.fresh_json(token) is None for token in tokens)
    await wait_for(
        lambda: _current(book, tokens), lambda fresh: fresh == len(tokens), timeout_s=2.0
    )


async def _current(book: OrderBook, tokens: list[str]) -> int:
    return sum(book.fresh_json(token) is not None for token in tokens)
