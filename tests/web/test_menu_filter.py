"""Customers filter the menu by dietary tag and hide dishes with an allergen, in real Chromium:
the choice is kept across a reload, empty categories go, and one tap shows every dish again."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.web.conftest import BrowserPage, screenshot
from tests.web.test_manage_page import served_menu

pytestmark = pytest.mark.anyio


async def test_a_customer_shows_only_vegetarian_dishes_without_gluten(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    for item_id in (shop.pizza, shop.cake):
        tagged = await api.patch(
            f"/api/manage/items/{item_id}", json={"dietary": ["vegetarian"]}, headers=STAFF_HEADERS
        )
        assert tagged.status_code == 200, tagged.text
    await served_menu(
        api,
        lambda menu: (
            [i["dietary"] for c in menu["categories"] for i in c["items"]].count(["vegetarian"])
            == 2
        ),
    )
    page = desktop.page
    await page.goto("/")
    filters = page.locator("[data-menu-filter]")
    await filters.get_by_label("vegetarian").check()
    visible = page.locator(".item:visible h3")
    await expect(visible).to_have_text(["Pizza", "Cake"])
    await filters.get_by_label("gluten").check()  # pizza contains gluten
    await expect(visible).to_have_text(["Cake"])
    await expect(filters.get_by_role("status")).to_have_text("3 dishes hidden by your choices.")
    await screenshot(page, "menu-filter")
    await page.reload()  # the choice is kept
    await expect(visible).to_have_text(["Cake"])
    await filters.get_by_role("button", name="Show every dish").click()
    await expect(visible).to_have_count(4)
