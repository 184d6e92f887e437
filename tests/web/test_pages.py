"""The pages as the server renders them, before any script runs (no browser needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from gourmet.menu.service import MenuCache
from gourmet.services import runtime_of
from gourmet.web.rendering import clock_time, day_label
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

HOSTILE = "</script><script>alert(1)</script>"


def test_times_are_in_the_restaurants_time_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    evening = datetime(2025, 11, 24, 23, 45, tzinfo=UTC)
    assert clock_time(evening, new_york) == "6:45 PM"
    assert day_label(evening, new_york) == "Mon, Nov 24"
    assert clock_time(datetime(2025, 11, 24, 5, 5, tzinfo=UTC), new_york) == "12:05 AM"


async def test_menu_page_is_rendered_on_the_server(client: Client, menu: FixtureMenu) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert "Pizza" in html
    assert "$10.00" in html
    assert "Contains: gluten" in html
    assert f'data-add-item="{menu.pizza}"' in html
    assert f'data-add-item="{menu.salad}"' not in html  # unavailable: no way to add it
    assert "Unavailable" in html
    # No inline script, handler or style: the page works under its own CSP.
    assert "<script>" not in html
    assert " onclick=" not in html
    assert " style=" not in html


async def test_menu_page_follows_menu_changes(
    client: Client, app: Litestar, conn: Conn, menu: FixtureMenu
) -> None:
    assert "$4.00" in (await client.get("/")).text
    await conn.execute("UPDATE item SET price_cents = 450 WHERE id = %s", (menu.cake,))
    await runtime_of(app).services.menu_cache.reload()
    html = (await client.get("/")).text
    assert "$4.50" in html
    assert "$4.00" not in html


async def test_menu_text_cannot_break_out_of_the_page(
    client: Client, app: Litestar, conn: Conn, menu: FixtureMenu
) -> None:
    row = await (await conn.execute("SELECT id FROM category LIMIT 1")).fetchone()
    assert row is not None
    await menu_repo.insert_item(
        conn, category_id=row["id"], name=HOSTILE, description="<b>bold</b>", price_cents=100
    )
    await runtime_of(app).services.menu_cache.reload()
    html = (await client.get("/")).text
    assert HOSTILE not in html
    assert "<b>bold</b>" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html  # in the HTML
    assert "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)" in html  # in the JSON island


async def test_menu_page_before_the_menu_is_loaded_asks_to_retry(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    runtime = runtime_of(app)
    runtime.replace(menu_cache=MenuCache(runtime.services.pool))  # a cold cache: nothing loaded
    for path in ("/", "/checkout"):
        response = await client.get(path)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2"
        assert "The menu is on its way" in response.text


async def test_tracking_page_is_rendered_on_the_server(client: Client, menu: FixtureMenu) -> None:
    body = checkout_body([{"item_id": menu.cake, "quantity": 2}], notes=HOSTILE)
    order = (await client.post("/api/orders", json=body)).json()
    response = await client.get(f"/orders/{order['token']}")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    html = response.text
    assert "Order received" in html
    assert 'aria-current="step"' in html
    assert "$8.00" in html
    assert "$0.80" in html
    assert "$8.80" in html
    assert HOSTILE not in html
    assert "&lt;/script&gt;&lt;script&gt;" in html


async def test_unknown_tracking_link_is_a_404_page(client: Client, menu: FixtureMenu) -> None:
    response = await client.get("/orders/not-a-real-token")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "We cannot find that order" in response.text
