"""The phone order page in a real browser: a staff member picks a caller's items with their
options, fills in the caller's details and places the order, which lands on the kitchen board
attributed to them; a customer is sent to sign in."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import FixtureMenu
from tests.web.actions import sign_in_as_staff
from tests.web.conftest import BrowserPage, LiveServer, screenshot

pytestmark = pytest.mark.anyio


async def test_staff_take_an_order_by_phone(
    desktop: BrowserPage, live_server: LiveServer, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    page = desktop.page
    await sign_in_as_staff(page, live_server.url, "/phone")
    await expect(page.get_by_role("heading", name="Phone order")).to_be_visible()
    items = page.get_by_role("group", name="The caller's items")
    await items.get_by_label("Item", exact=True).select_option(label="Pizza ($10.00)")
    add = items.get_by_role("button", name="Add to the order")
    await add.click()
    await expect(items.locator("[data-phone-error]")).to_have_text("Size: choose 1.")
    await items.get_by_label("Large").check()
    await items.get_by_label("Cheese").check()
    await items.get_by_label("Quantity").fill("2")
    await add.click()
    summary = page.get_by_role("complementary")
    await expect(summary).to_contain_text("Pizza")
    await expect(summary.locator("[data-cart-total]")).to_have_text("$28.00")
    await page.get_by_label("Name").fill("Caller Carla")
    await page.get_by_label("Phone").fill("555-0199")
    await screenshot(page, "phone-order-desktop")
    await page.get_by_role("button", name="Place order").click()
    await expect(page.get_by_role("heading", name="Thank you, Caller Carla!")).to_be_visible()
    token = page.url.rsplit("/", 1)[1]
    order = (await api.get(f"/api/orders/{token}")).json()
    assert order["totals"]["subtotal_cents"] == 2800
    assert (order["history"][0]["actor"], order["history"][0]["reason"]) == (
        "staff token",
        "Taken by phone",
    )


async def test_the_phone_page_is_for_staff(
    desktop: BrowserPage, live_server: LiveServer, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.goto("/phone")
    await expect(page).to_have_url(f"{live_server.url}/ops/login?next=/phone")
