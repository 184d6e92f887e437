"""Staff find a past order on /kitchen/orders and open it, in real Chromium (the page fixtures
fail on any page error or Content-Security-Policy refusal)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.web.actions import order_by_api
from tests.web.conftest import BrowserPage, LiveServer, move_order, screenshot

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


async def test_a_manager_refunds_part_of_a_collected_order_in_cash(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient, live_server: LiveServer
) -> None:
    """A cold cake of a collected pay-at-pickup order: one line's cake back in cash, with its
    tax; asking more than is left says how much is, and makes nothing."""
    order = await order_by_api(api, [{"item_id": shop.cake, "quantity": 2}])
    for status in ("accepted", "preparing", "ready", "completed"):
        await move_order(api, order["number"], status)
    page = desktop.page
    await page.goto("/ops/login?next=/kitchen/orders")
    await page.get_by_label("Staff token").fill(STAFF_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await page.locator("#found tbody tr").first.get_by_role("button").click()
    await expect(page.locator("#refund-left")).to_have_text(
        "Paid $8.80; refunded $0.00; $8.80 can still be refunded."
    )
    form = page.locator("#refund-form")
    await form.get_by_label("An amount").check()
    await form.get_by_label("Amount", exact=True).fill("9.00")
    await form.get_by_label("Reason").fill("cold")
    await form.get_by_role("button", name="Refund").click()
    await expect(page.locator("#refund-error")).to_have_text(
        f"At most $8.80 of order {order['number']} can still be refunded."
    )
    await form.get_by_label("Chosen lines (with their tax)").check()
    await form.locator("#refund-lines input").fill("1")
    await form.get_by_role("button", name="Refund").click()
    await expect(page.locator("#refund-left")).to_have_text(
        "Paid $8.80; refunded $4.40; $4.40 can still be refunded."
    )
    await expect(page.locator("#refund-list li")).to_have_count(1)
    await expect(page.locator("#refund-list li")).to_contain_text("$4.40 in cash (done)")
    await expect(page.locator("#order-history li").last).to_contain_text(
        "Refunded $4.40 in cash: cold"
    )
    await screenshot(page, "kitchen-refund", full_page=True)
    tracking = await api.get(f"/api/orders/{order['token']}")
    assert tracking.json()["refunded_cents"] == 440
