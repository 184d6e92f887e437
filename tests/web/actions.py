"""What a customer does in the browser, as reusable steps."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.ordering.helpers import checkout_body

TRACKING_URL = re.compile(r"/orders/[A-Za-z0-9_-]{20,}$")


async def add_item(page: Page, name: str, *choices: str, quantity: int = 1) -> None:
    """From the menu page: open the item's dialog, tick ``choices``, add to the order."""
    item = page.locator("li.item").filter(has=page.get_by_role("heading", name=name, exact=True))
    await item.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    for choice in choices:
        await dialog.get_by_label(choice).check()
    if quantity != 1:
        await dialog.get_by_label("Quantity").fill(str(quantity))
    await dialog.get_by_role("button", name=re.compile("^Add to order")).click()
    await expect(dialog).to_be_hidden()


async def fill_contact(page: Page, name: str = "Ada Lovelace", notes: str = "") -> None:
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Phone").fill("555-0100")
    await page.get_by_label("Email").fill("ada@example.com")
    if notes:
        await page.get_by_label("Notes for the restaurant").fill(notes)


async def place_order(page: Page) -> str:
    """Click "Place order", wait for the tracking page, return the order's token."""
    await page.get_by_role("button", name="Place order").click()
    await expect(page).to_have_url(TRACKING_URL)
    return page.url.rsplit("/", 1)[1]


async def order_by_api(
    api: httpx.AsyncClient, lines: list[dict[str, Any]], **options: Any
) -> dict[str, Any]:
    response = await api.post("/api/orders", json=checkout_body(lines, **options))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def sign_in_as_staff(page: Page, base_url: str, path: str) -> None:
    """Open a staff page: get sent to sign in, give the staff token, land back on ``path``."""
    from tests.conftest import STAFF_TOKEN

    await page.goto(path)
    await expect(page).to_have_url(f"{base_url}/ops/login?next={path}")
    await page.get_by_label("Staff token").fill(STAFF_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base_url + path)
