"""Prep times in the browser: a manager sets how many orders the kitchen makes at once and an
item's prep time in the console; the checkout page's "as soon as possible" then says how soon,
counting the orders the kitchen already has to make."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.web.actions import add_item, order_by_api
from tests.web.conftest import BrowserPage, LiveServer, staff_page

pytestmark = pytest.mark.anyio


async def test_the_checkout_page_quotes_from_the_kitchens_backlog(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
) -> None:
    customer = desktop.page
    await customer.goto("/")
    await add_item(customer, "Cake")
    await customer.goto("/checkout")
    quote = customer.locator("[data-asap-quote]")
    await expect(quote).to_have_text("(ready in about 10 min)")  # the lead time

    async with staff_page(browser, live_server, "/manage") as page:
        await page.get_by_label("Orders the kitchen makes at once").fill("2")
        await page.get_by_role("button", name="Save settings").click()
        await expect(page.locator("#status")).to_have_text("Settings saved.")
        await page.get_by_role("button", name="Edit Cake").click()
        editor = page.locator("#item-editor")
        await editor.get_by_label("Prep time").fill("30")
        await editor.get_by_role("button", name="Save item").click()
        await expect(page.locator("#status")).to_contain_text("Cake saved")
    managed = (await api.get("/api/manage/menu", headers=STAFF_HEADERS)).json()
    cake = next(i for c in managed["categories"] for i in c["items"] if i["id"] == shop.cake)
    assert cake["prep_minutes"] == 30

    for _ in range(2):  # two cakes of 30 minutes for a kitchen making two at once
        await order_by_api(api, [{"item_id": shop.cake}])
    await customer.reload()
    # 60 make-minutes ahead over 2 at once, then this cart's own cake: 30 + 30.
    await expect(quote).to_have_text("(ready in about 60 min)")
    placed = await order_by_api(api, [{"item_id": shop.cake}])  # and the order agrees
    ready_in = datetime.fromisoformat(placed["estimated_ready_at"]) - datetime.fromisoformat(
        placed["created_at"]
    )
    assert ready_in >= timedelta(minutes=60)
