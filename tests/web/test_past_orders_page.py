"""Staff find a past order on /kitchen/orders and open it, in real Chromium (the page fixtures
fail on any page error or Content-Security-Policy refusal)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.web.actions import order_by_api
from tests.web.conftest import BrowserPage, LiveServer, screenshot

pytestmark = pytest.mark.anyio


async def test_staff_find_an_order_and_open_it(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient, live_server: LiveServer
) -> None:
    first = await order_by_api(api, [{"item_id": shop.cake, "quantity": 2}])
    await order_by_api(api, [{"item_id": shop.cake}])
    page = desktop.page
    await page.goto("/ops/login?next=/kitchen/orders")
    await page.get_by_label("Staff token").fill(STAFF_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{live_server.url}/kitchen/orders")
    rows = page.locator("#found tbody tr")
    await expect(rows).to_have_count(2)  # newest first
    await page.get_by_label("Search").fill(f"#{first['number']}")
    await page.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(1)
    await rows.first.get_by_role("button").click()
    await expect(page.locator("#order-title")).to_have_text(f"Order #{first['number']}")
    await expect(page.locator("#order-lines li")).to_have_text(["2 \u00d7 Cake $8.00"])
    await expect(page.locator("#order-history li")).to_have_count(1)
    await screenshot(page, "kitchen-past-orders", full_page=True)
