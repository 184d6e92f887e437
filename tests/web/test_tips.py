"""A tip chosen at checkout, in a real browser: the summary shows it before the order is placed,
the server charges exactly that, and the receipt (the tracking page) lists it."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import FixtureMenu
from tests.web.actions import add_item, fill_contact, place_order
from tests.web.conftest import BrowserPage, screenshot

pytestmark = pytest.mark.anyio


async def test_a_percentage_tip_and_then_an_amount(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.goto("/")
    await add_item(page, "Cake", quantity=2)
    await page.goto("/checkout")
    summary = page.get_by_role("complementary")
    tip_row = summary.locator("[data-tip-row]")
    await expect(tip_row).to_be_hidden()
    tips = page.get_by_role("group", name="Tip for the team")
    await tips.get_by_label("15%").check()
    await expect(tip_row).to_have_text("Tip $1.20")  # 15% of $8.00
    await tips.get_by_label("Other amount").check()
    await page.get_by_label("Tip amount").fill("2.50")
    await expect(tip_row).to_have_text("Tip $2.50")
    await screenshot(page, "checkout-tip-desktop")
    await fill_contact(page)
    token = await place_order(page)
    await expect(page.locator("[data-tip]")).to_have_text("$2.50")
    order = (await api.get(f"/api/orders/{token}")).json()
    assert order["totals"]["tip_cents"] == 250
    assert order["totals"]["total_cents"] == 800 + 80 + 250
