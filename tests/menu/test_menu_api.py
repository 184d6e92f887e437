"""GET /api/menu: served from the cache, with ETag and 304, refreshed by NOTIFY."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from gourmet.services import runtime_of
from tests.conftest import FixtureMenu
from tests.polling import wait_for
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


def items_by_name(payload: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for c in payload["categories"] for i in c["items"]}


async def test_menu_lists_categories_items_and_modifiers(client: Client, menu: FixtureMenu) -> None:
    response = await client.get("/api/menu")
    assert response.status_code == 200
    payload = response.json()
    assert payload["restaurant"] == "Test Kitchen"
    items = items_by_name(payload)
    assert set(items) == {"Pizza", "Soup", "Salad", "Cake"}
    assert items["Salad"]["available"] is False
    assert items["Pizza"]["allergens"] == ["gluten"]
    groups = items["Pizza"]["modifier_groups"]
    assert [(g["name"], g["min_choices"], g["max_choices"]) for g in groups] == [
        ("Size", 1, 1),
        ("Extras", 0, 2),
    ]
    assert [o["price_delta_cents"] for o in groups[0]["options"]] == [0, 300]


async def test_etag_gives_304_until_the_menu_changes(
    client: Client, menu: FixtureMenu, conn: Conn
) -> None:
    first = await client.get("/api/menu")
    etag = first.headers["etag"]
    not_modified = await client.get("/api/menu", headers={"If-None-Match": etag})
    assert not_modified.status_code == 304
    assert not_modified.content == b""

    await conn.execute("UPDATE item SET price_cents = 1100 WHERE id = %s", (menu.pizza,))
    await menu_repo.notify_menu_changed(conn)
    changed = await wait_for(
        lambda: client.get("/api/menu", headers={"If-None-Match": etag}),
        lambda r: r.status_code == 200,
    )
    assert changed.headers["etag"] != etag
    assert items_by_name(changed.json())["Pizza"]["price_cents"] == 1100


async def test_menu_is_served_without_the_pool(client: Client, app: Litestar) -> None:
    await client.get("/api/menu")
    before = runtime_of(app).services.pool.stats()["requests_num"]
    for _ in range(20):
        response = await client.get("/api/menu")
        assert response.status_code == 200
    assert items_by_name(response.json())["Pizza"]["price_cents"] == 1000
    assert runtime_of(app).services.pool.stats()["requests_num"] == before


async def test_fast_path_and_handler_serve_the_same_menu(client: Client, app: Litestar) -> None:
    fast = await client.get("/api/menu")
    async with serve(app) as direct:  # Litestar alone, without the ASGI layers
        handled = await direct.get("/api/menu")
        not_modified = await direct.get(
            "/api/menu", headers={"If-None-Match": fast.headers["etag"]}
        )
    assert handled.status_code == 200
    assert handled.content == fast.content
    assert handled.headers["etag"] == fast.headers["etag"]
    assert not_modified.status_code == 304
