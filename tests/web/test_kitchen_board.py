"""The kitchen board in a real browser: a guest's order appears live with the alert, staff move
it with one tap, and the guest's tracking page follows without a reload."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import FixtureMenu
from tests.web.actions import add_item, fill_contact, place_order, sign_in_as_staff
from tests.web.conftest import DESKTOP, BrowserPage, LiveServer, open_page, screenshot

pytestmark = pytest.mark.anyio


async def test_order_moves_from_guest_to_kitchen_and_back(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
) -> None:
    kitchen = await open_page(browser, live_server, DESKTOP)
    try:
        board = kitchen.page
        await sign_in_as_staff(board, live_server.url, "/kitchen")
        await expect(board.locator("#connection")).to_have_text("Live")

        guest = desktop.page
        await guest.goto("/")
        await add_item(guest, "Pizza", "Large", "Cheese")
        await guest.goto("/checkout")
        await fill_contact(guest, notes="<b>ring the bell</b>")
        token = await place_order(guest)

        card = board.locator(f'.column[data-status="received"] li[data-token="{token}"]')
        await expect(card).to_contain_text("Pizza (Large, Cheese)")
        await expect(card).to_contain_text("<b>ring the bell</b>")  # text, never markup
        await expect(board.locator("#new-order")).to_be_visible()  # the visible alert
        await screenshot(board, "kitchen-desktop")

        await card.get_by_role("button", name="Accept").click()
        accepted = board.locator(f'.column[data-status="accepted"] li[data-token="{token}"]')
        await expect(accepted).to_be_visible()
        status = guest.locator("[data-status-label]")
        await expect(status).to_have_text("Accepted by the kitchen")  # no reload: pushed

        await accepted.get_by_role("button", name="Start preparing").click()
        preparing = board.locator(f'.column[data-status="preparing"] li[data-token="{token}"]')
        await preparing.get_by_role("button", name="Ready").click()
        await expect(
            board.locator(f'.column[data-status="ready"] li[data-token="{token}"]')
        ).to_be_visible()
        order = (await api.get(f"/api/orders/{token}")).json()
        assert [h["status"] for h in order["history"]] == [
            "received",
            "accepted",
            "preparing",
            "ready",
        ]
        await expect(guest.locator("[data-step=ready]")).to_have_attribute("aria-current", "step")
    finally:
        await kitchen.page.context.close()
    assert kitchen.problems == []
