"""A guest orders a customised pizza and watches the kitchen move it, live, in a real browser."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import FixtureMenu
from tests.web.actions import fill_contact, place_order
from tests.web.conftest import BrowserPage, move_order, screenshot

pytestmark = pytest.mark.anyio


async def test_guest_orders_customised_pizza_and_follows_it_live(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Our menu")).to_be_visible()
    await screenshot(page, "menu-desktop")

    pizza = page.locator("li.item").filter(has=page.get_by_role("heading", name="Pizza"))
    await expect(pizza).to_contain_text("$10.00")
    await expect(pizza).to_contain_text("Contains: gluten")
    await pizza.get_by_role("button", name="Choose options").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.get_by_role("heading", name="Pizza")).to_be_visible()
    price = dialog.locator("#dialog-price")
    await expect(price).to_have_text("$10.00")

    # The size is required: adding without one is refused, next to the size.
    add = dialog.get_by_role("button", name=re.compile("^Add to order"))
    await add.click()
    await expect(dialog.get_by_text("Please choose a size.")).to_be_visible()

    await dialog.get_by_label("Large").check()
    await expect(price).to_have_text("$13.00")
    await dialog.get_by_label("Cheese").check()
    await expect(price).to_have_text("$14.00")
    # Extras allow two: with two ticked the third cannot be.
    await dialog.get_by_label("Olives").check()
    await expect(dialog.get_by_label("Basil")).to_be_disabled()
    await expect(price).to_have_text("$14.50")
    await dialog.get_by_label("Olives").uncheck()
    await expect(dialog.get_by_label("Basil")).to_be_enabled()
    await expect(price).to_have_text("$14.00")
    await screenshot(page, "item-dialog-desktop")
    await add.click()
    await expect(dialog).to_be_hidden()

    cart = page.get_by_role("complementary")
    await expect(cart).to_contain_text("Pizza")
    await expect(cart).to_contain_text("Large, Cheese")
    await expect(cart).to_contain_text("$14.00")

    await cart.get_by_role("link", name="Go to checkout").click()
    await expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    await fill_contact(page, notes="Ring twice")
    await screenshot(page, "checkout-desktop", full_page=True)
    token = await place_order(page)

    status = page.locator("[data-status-label]")
    await expect(status).to_have_text("Order received")
    await expect(page.locator("[data-step=received]")).to_have_attribute("aria-current", "step")
    # The prices shown are the server's: 14.00 + 10% tax.
    await expect(page.locator(".totals")).to_contain_text("$1.40")
    await expect(page.locator("[data-total]")).to_have_text("$15.40")
    await expect(page.get_by_text("Large (+$3.00), Cheese (+$1.00)")).to_be_visible()
    await expect(page.locator("[data-live-state]")).to_contain_text("Live")
    await screenshot(page, "tracking-desktop", full_page=True)

    # The kitchen moves the order; the open page follows without being reloaded.
    await page.evaluate("window.stillTheSamePage = true")
    number = (await api.get(f"/api/orders/{token}")).json()["number"]
    await move_order(api, number, "accepted")
    await expect(status).to_have_text("Accepted by the kitchen")
    await expect(page.locator("[data-step=accepted]")).to_have_attribute("aria-current", "step")
    await move_order(api, number, "preparing")
    await expect(status).to_have_text("Being prepared")
    await move_order(api, number, "ready")
    await expect(status).to_have_text("Ready")
    await expect(page.locator("[data-step=ready]")).to_have_attribute("aria-current", "step")
    history = page.locator("[data-history] li")
    await expect(history).to_have_count(4)
    await expect(history.last).to_contain_text("Ready")
    assert await page.evaluate("window.stillTheSamePage") is True

    # Collected: the page says it is finished and stops listening.
    await move_order(api, number, "completed")
    await expect(status).to_have_text("Picked up")
    await expect(page.locator("[data-live-state]")).to_contain_text("finished")


async def test_phone_layout_orders_through_the_cart_bar(
    phone: BrowserPage, shop: FixtureMenu
) -> None:
    page = phone.page
    await page.goto("/")
    await expect(page.get_by_role("navigation", name="Menu categories")).to_be_visible()
    # On a phone the cart is a bar at the bottom, not a side panel.
    await expect(page.get_by_role("complementary")).to_be_hidden()
    await screenshot(page, "menu-phone")

    await page.locator("li.item", has_text="Pizza").get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    await dialog.get_by_label("Small").check()
    await dialog.get_by_label("Basil").check()
    await screenshot(page, "item-dialog-phone")
    await dialog.get_by_role("button", name=re.compile("^Add to order")).click()

    bar = page.locator("[data-cart-bar]")
    await expect(bar).to_be_visible()
    await expect(bar).to_contain_text("1 item")
    await expect(bar).to_contain_text("$10.00")
    await bar.click()
    await expect(page.get_by_role("heading", name="Checkout")).to_be_visible()
    await fill_contact(page, name="Grace")
    await screenshot(page, "checkout-phone", full_page=True)
    await place_order(page)
    await expect(page.locator("[data-status-label]")).to_have_text("Order received")
    await expect(page.get_by_role("heading", name="Thank you, Grace!")).to_be_visible()
    await screenshot(page, "tracking-phone", full_page=True)
