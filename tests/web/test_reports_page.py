"""The manager's sales page: today's orders as totals, items and charts, in real Chromium (the
page fixtures fail on any page error or Content-Security-Policy refusal)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.web.actions import order_by_api
from tests.web.conftest import BrowserPage, LiveServer, screenshot

pytestmark = pytest.mark.anyio


async def test_a_manager_sees_todays_sales(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient, live_server: LiveServer
) -> None:
    await order_by_api(api, [{"item_id": shop.cake, "quantity": 2}])
    await order_by_api(api, [{"item_id": shop.cake}])
    page = desktop.page
    await page.goto("/ops/login?next=/manage/reports")
    await page.get_by_label("Staff token").fill(STAFF_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{live_server.url}/manage/reports")
    totals = page.locator("#totals tbody tr").first.locator("td")
    await expect(totals.nth(0)).to_have_text("2")  # orders
    items = page.locator("#items tbody tr")
    await expect(items).to_have_count(1)
    await expect(items.first.locator("td").nth(1)).to_have_text("3")  # cakes sold
    await expect(page.locator("#chart-days .main-svg").first).to_be_visible()
    await expect(page.locator("#chart-hours .main-svg").first).to_be_visible()
    await screenshot(page, "manage-reports", full_page=True)
    # A range the report cannot cover says so on the page.
    await page.locator("#from").fill("2001-01-01")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("#report-error")).to_contain_text("at most")
    csv = page.locator("#orders-csv")
    await expect(csv).to_have_attribute(
        "href",
        "/api/manage/reports?from=2001-01-01&to="
        + (await page.locator("#to").input_value())
        + "&format=csv",
    )


async def test_the_sales_page_needs_a_manager(
    desktop: BrowserPage, live_server: LiveServer
) -> None:
    page = desktop.page
    await page.goto("/manage/reports")
    await expect(page).to_have_url(f"{live_server.url}/ops/login?next=/manage/reports")
