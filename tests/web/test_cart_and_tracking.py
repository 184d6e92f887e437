"""The cart in the browser, and the tracking page's escaping, fallback and not-found page."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import FixtureMenu
from tests.web.actions import add_item, order_by_api
from tests.web.conftest import BrowserPage, move_order

pytestmark = pytest.mark.anyio

HOSTILE_NOTE = "<script>alert(1)</script><b>x</b>"


async def test_cart_survives_a_reload_and_can_be_edited(
    desktop: BrowserPage, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.goto("/")
    await add_item(page, "Cake")
    await add_item(page, "Soup", quantity=2)
    await add_item(page, "Cake")  # the same line again: one line, quantity 2
    cart = page.get_by_role("complementary")
    await expect(cart.locator(".cart-line")).to_have_count(2)
    await expect(cart.locator("[data-cart-total]")).to_have_text("$18.00")
    await expect(page.locator("[data-cart-count]")).to_have_text("(4)")

    await page.reload()
    await expect(cart.locator(".cart-line")).to_have_count(2)
    await expect(cart.locator("[data-cart-total]")).to_have_text("$18.00")

    soup = cart.locator(".cart-line", has_text="Soup")
    await soup.get_by_role("button", name="One less Soup").click()
    await expect(soup.locator(".cart-line__qty")).to_have_text("Quantity 1")
    await expect(cart.locator("[data-cart-total]")).to_have_text("$13.00")
    await cart.locator(".cart-line", has_text="Cake").get_by_role("button", name="Remove").click()
    await expect(cart.locator(".cart-line")).to_have_count(1)
    await expect(cart.locator("[data-cart-total]")).to_have_text("$5.00")

    # The checkout page shows the same cart, after another reload.
    await page.goto("/checkout")
    await page.reload()
    summary = page.get_by_role("complementary")
    await expect(summary.locator(".cart-line")).to_have_count(1)
    await expect(summary.locator(".cart-line")).to_contain_text("Soup")
    await expect(summary.locator("[data-cart-total]")).to_have_text("$5.00")


async def test_customer_text_is_shown_as_text_never_as_markup(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    order = await order_by_api(
        api,
        [{"item_id": shop.cake, "notes": "<i>no candles</i>"}],
        name="<b>Bobby</b>",
        notes=HOSTILE_NOTE,
    )
    await page.goto(f"/orders/{order['token']}")
    notes = page.locator("[data-notes]")
    await expect(notes).to_have_text(HOSTILE_NOTE)
    await expect(page.get_by_role("heading", name="Thank you, <b>Bobby</b>!")).to_be_visible()
    await expect(page.get_by_text("Note: <i>no candles</i>")).to_be_visible()
    main = page.locator("main")
    await expect(main.locator("b, i, script:not([type='application/json'])")).to_have_count(0)

    # Text that arrives live (drawn by the script, not the server) is escaped too.
    reason = "<img src=x onerror=alert(2)> out of flour"
    await move_order(api, order["number"], "rejected", reason=reason)
    await expect(page.locator("[data-terminal-text]")).to_have_text(
        f"The restaurant could not take this order: {reason}."
    )
    await expect(page.locator("[data-history]")).to_contain_text(reason)
    await expect(main.locator("img")).to_have_count(0)
    # The fixture fails the test if any alert() ran (a dialog opened).


async def test_tracking_polls_when_the_browser_has_no_event_source(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.add_init_script("delete window.EventSource")
    order = await order_by_api(api, [{"item_id": shop.cake}])
    await page.goto(f"/orders/{order['token']}")
    await expect(page.locator("[data-live-state]")).to_have_text(
        "Checking for updates every 5 seconds."
    )
    await move_order(api, order["number"], "accepted")
    await expect(page.locator("[data-status-label]")).to_have_text("Accepted by the kitchen")


async def test_unknown_tracking_link_gets_a_friendly_page(
    desktop: BrowserPage, shop: FixtureMenu
) -> None:
    page = desktop.page
    response = await page.goto("/orders/no-such-order-token-at-all")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="We cannot find that order")).to_be_visible()
    await expect(page.get_by_role("link", name="Back to the menu")).to_be_visible()


async def test_a_customer_cancels_from_the_tracking_page_until_the_kitchen_takes_it(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    first = await order_by_api(api, [{"item_id": shop.cake}])
    await page.goto(f"/orders/{first['token']}")
    await page.get_by_role("button", name="Cancel this order").click()
    await page.get_by_role("button", name="Keep my order").click()  # changed their mind again
    await page.get_by_role("button", name="Cancel this order").click()
    await page.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.locator("[data-status-label]")).to_have_text("Cancelled")
    await expect(page.locator("[data-terminal-text]")).to_have_text("This order was cancelled.")
    await expect(page.locator("[data-cancel]")).to_be_hidden()
    # Another order, taken by the kitchen while its page was open: the page says to call.
    second = await order_by_api(api, [{"item_id": shop.cake}])
    await page.add_init_script("delete window.EventSource")  # the page learns only by asking
    await page.goto(f"/orders/{second['token']}")
    await move_order(api, second["number"], "accepted")
    await page.get_by_role("button", name="Cancel this order").click()
    await page.get_by_role("button", name="Yes, cancel it").click()
    await expect(page.locator("[data-cancel-error]")).to_contain_text("call the restaurant")
    assert (await api.get(f"/api/orders/{second['token']}")).json()["status"] == "accepted"
