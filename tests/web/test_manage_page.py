"""The manager's console in a real browser: a manager 86es an item, changes a price by keyboard
and pauses online ordering; the customers' menu page follows."""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import STAFF_HEADERS, STAFF_TOKEN, FixtureMenu
from tests.web.conftest import (
    MENU_RELOAD_DEADLINE_S,
    BrowserPage,
    LiveServer,
    screenshot,
    staff_page,
)

pytestmark = pytest.mark.anyio


async def served_menu(api: httpx.AsyncClient, done: Any) -> None:
    """Wait for the server's menu cache to reload (through NOTIFY) into the state ``done``."""
    deadline = time.monotonic() + MENU_RELOAD_DEADLINE_S
    while not done(menu := (await api.get("/api/menu")).json()):
        assert time.monotonic() < deadline, f"menu not reloaded: {menu}"
        await anyio.sleep(0.05)  # polling interval; the deadline above bounds the wait


def item(menu: dict[str, Any], item_id: int) -> dict[str, Any]:
    return next(i for c in menu["categories"] for i in c["items"] if i["id"] == item_id)


async def test_a_manager_86es_an_item_and_customers_see_it(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
) -> None:
    async with staff_page(browser, live_server, "/manage") as page:
        status = page.locator("#status")
        toggle = page.get_by_role("button", name="86 Cake")
        await expect(toggle).to_have_attribute("aria-pressed", "false")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-pressed", "true")
        await expect(status).to_have_text("Cake is 86'd: customers cannot order it.")
        row = page.locator("tr", has=page.get_by_role("rowheader", name="Cake"))
        await expect(row).to_contain_text("86'd")
        # Snoozed instead: off until tomorrow, and the row says when it comes back.
        await page.get_by_role("button", name="Till tomorrow (snooze Cake)").click()
        await expect(status).to_contain_text("Cake is 86'd until")
        await expect(row).to_contain_text("86'd until")

        price = page.get_by_label("Price of Pizza in dollars")
        await price.fill("11.50")
        await price.press("Enter")
        await expect(status).to_have_text("Pizza now costs $11.50.")

        await page.get_by_label("Message customers see while ordering is paused").fill(
            "<b>Back at 6 pm</b>"
        )
        await page.get_by_role("button", name="Pause online ordering").click()
        await expect(page.locator("#pause-state")).to_have_text(
            "Paused: customers cannot place orders online."
        )
        await screenshot(page, "manage-desktop", full_page=True)

    await served_menu(api, lambda m: m["ordering_paused"] and not item(m, shop.cake)["available"])
    guest = desktop.page
    await guest.goto("/")
    cake = guest.locator("li.item").filter(
        has=guest.get_by_role("heading", name="Cake", exact=True)
    )
    await expect(cake.locator(".badge--unavailable")).to_have_text("Unavailable")
    pizza = guest.locator("li.item").filter(
        has=guest.get_by_role("heading", name="Pizza", exact=True)
    )
    await expect(pizza.locator(".item__price")).to_contain_text("11.50")
    await expect(guest.get_by_text("<b>Back at 6 pm</b>")).to_be_visible()  # text, not markup


async def test_a_manager_sets_the_restaurants_details_and_the_menu_page_shows_them(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
) -> None:
    async with staff_page(browser, live_server, "/manage") as page:
        form = page.locator("#details-form")
        await form.get_by_label("Phone").fill("call me")
        await form.get_by_role("button", name="Save details").click()
        await expect(page.locator("#status")).to_contain_text("phone")
        await form.get_by_label("Address").fill("12 Market Square, Springfield")
        await form.get_by_label("Phone").fill("555 010 2000")
        await form.get_by_role("button", name="Save details").click()
        await expect(page.locator("#status")).to_have_text("Restaurant details saved.")
    await served_menu(api, lambda menu: menu["phone"] == "555 010 2000")
    customer = desktop.page
    await customer.goto("/")
    await expect(customer.get_by_role("link", name="555 010 2000")).to_have_attribute(
        "href", "tel:5550102000"
    )
    await expect(customer.locator(".find-us__address")).to_have_text(
        "12 Market Square, Springfield"
    )
    await customer.get_by_text("Opening hours").click()
    await expect(customer.locator(".find-us__hours tr")).to_have_count(7)
    await screenshot(customer, "menu-find-us")
    # Back as it was for the other tests.
    await api.put(
        "/api/manage/details",
        json={"name": "Test Kitchen"},
        headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
    )


async def test_a_manager_edits_an_items_words_and_tags_and_customers_see_them(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
) -> None:
    async with staff_page(browser, live_server, "/manage") as page:
        await page.get_by_role("button", name="Edit Soup").click()
        editor = page.locator("#item-editor")
        await editor.get_by_label("Name").fill("Tomato soup")
        await editor.get_by_label("Description").fill("Slow-roasted tomatoes, basil oil.")
        await editor.get_by_label("Allergens").fill("celery, milk")
        await editor.get_by_label("Dietary tags").fill("vegetarian")
        await editor.get_by_label("Portions each day").fill("20")
        await screenshot(page, "manage-item-editor")
        await editor.get_by_role("button", name="Save item").click()
        await expect(page.locator("#status")).to_have_text(
            "Tomato soup saved: customers see it as soon as the menu reloads."
        )
    await served_menu(api, lambda menu: item(menu, shop.soup)["name"] == "Tomato soup")
    customer = desktop.page
    await customer.goto("/")
    soup = customer.locator(f"#item-{shop.soup}")
    await expect(soup).to_contain_text("Slow-roasted tomatoes, basil oil.")
    await expect(soup).to_contain_text("Contains: celery, milk")
    await expect(soup.locator(".tag--diet")).to_have_text("vegetarian")
    managed = (await api.get("/api/manage/menu", headers=STAFF_HEADERS)).json()
    assert item(managed, shop.soup)["daily_stock"] == 20


async def test_a_manager_edits_an_items_options_as_text(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
) -> None:
    async with staff_page(browser, live_server, "/manage") as page:
        await page.get_by_role("button", name="Edit Pizza").click()
        options = page.locator("#item-editor").get_by_label("Options")
        await expect(options).to_have_value(
            "Size (choose 1 to 1)\n  Small +0.00\n  Large +3.00\n"
            "Extras (choose 0 to 2)\n  Cheese +1.00\n  Olives +0.50\n  Basil +0.00"
        )
        await options.fill("Size (choose one)\n  Small")
        await page.get_by_role("button", name="Save item").click()
        await expect(page.locator("#status")).to_contain_text(
            'write a group like "Size (choose 1 to 1)"'
        )
        await options.fill(
            "Size (choose 1 to 1)\n  Small +0.00\n  Large +3.00\n  Family -1.50\n"
            "Extras (choose 0 to 3)\n  Cheese +1.00\n  (off) Olives +0.50\n  Basil"
        )
        await page.get_by_role("button", name="Save item").click()
        await expect(page.locator("#status")).to_have_text(
            "Pizza saved: customers see it as soon as the menu reloads."
        )
    await served_menu(
        api, lambda menu: len(item(menu, shop.pizza)["modifier_groups"][0]["options"]) == 3
    )
    groups = item((await api.get("/api/menu")).json(), shop.pizza)["modifier_groups"]
    assert [(o["name"], o["price_delta_cents"], o["available"]) for o in groups[0]["options"]] == [
        ("Small", 0, True),
        ("Large", 300, True),
        ("Family", -150, True),
    ]
    assert groups[1]["max_choices"] == 3
    assert [(o["id"], o["available"]) for o in groups[1]["options"]] == [
        (shop.extra_cheese, True),
        (shop.extra_olives, False),  # kept, switched off
        (shop.extra_basil, True),
    ]
