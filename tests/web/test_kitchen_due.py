"""The kitchen board by due time, on a tablet, in a real browser: pre-orders wait in "Later",
each card counts down and turns red when late, the new-order alert stays until acknowledged,
and busy mode moves the customer's ready time on their tracking page without a reload."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import Browser, expect

from gourmet.db.types import Conn
from tests.conftest import FixtureMenu
from tests.web.actions import order_by_api, sign_in_as_staff
from tests.web.conftest import BrowserPage, LiveServer, open_page, screenshot

pytestmark = pytest.mark.anyio
TABLET = {"width": 1024, "height": 768}


async def test_board_by_due_time_alert_until_acknowledged_and_busy_mode(
    desktop: BrowserPage,
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
    conn: Conn,
) -> None:
    slots = (await api.get("/api/slots?fulfilment=pickup")).json()["slots"]
    # A pre-order an hour or so away: later on the board, and within the two hours busy mode
    # moves (one due later is left alone: tests/kitchen/test_busy_rush.py).
    pre_order = await order_by_api(
        api, [{"item_id": shop.cake}], name="Later Larry", slot=slots[4]["start"]
    )
    kitchen = await open_page(browser, live_server, TABLET)  # type: ignore[arg-type]
    try:
        board = kitchen.page
        await sign_in_as_staff(board, live_server.url, "/kitchen")
        await expect(board.locator("#connection")).to_have_text("Live")
        later = board.locator(f'.column[data-status="later"] li[data-token="{pre_order["token"]}"]')
        await expect(later).to_contain_text(re.compile(r"due in \d+ min"))

        asap = await order_by_api(api, [{"item_id": shop.cake}], name="Soon Sue")
        card = board.locator(f'.column[data-status="received"] li[data-token="{asap["token"]}"]')
        await expect(card).to_contain_text(re.compile(r"due in \d+ min"))
        alert = board.locator("#new-order")
        await expect(alert).to_be_visible()
        await asyncio.sleep(4.5)  # the old alert hid itself after 4 s; this one stays
        await expect(alert).to_be_visible()
        await screenshot(board, "kitchen-tablet")
        await board.get_by_role("button", name="Got it").click()
        await expect(alert).to_be_hidden()

        # A late order is flagged.
        await conn.execute(
            "UPDATE orders SET estimated_ready_at = now() - interval '5 minutes',"
            " version = version + 1 WHERE token = %s",
            [asap["token"]],
        )
        await conn.execute(
            "SELECT pg_notify('order_changed', token || ':' || version) FROM orders"
            " WHERE token = %s",
            [asap["token"]],
        )
        await expect(card).to_have_class(re.compile(r"\blate\b"))
        await expect(card).to_contain_text(re.compile(r"LATE by [56] min"))

        # Busy mode: the customer's page moves by itself.
        guest = desktop.page
        await guest.goto(f"/orders/{pre_order['token']}")
        before = await guest.locator("[data-ready-time]").text_content()
        await board.get_by_role("button", name="+20 min").click()
        await expect(board.locator("#busy-state")).to_contain_text("Busy: +20 min until")
        await expect(guest.locator("[data-ready-time]")).not_to_have_text(before or "")
        await expect(guest.locator("[data-history]")).to_contain_text(
            "Delayed by 20 minutes: the kitchen is busy"
        )
        await expect(card).to_contain_text("Delayed by 20 minutes")  # who and when, on the card
        await board.get_by_role("button", name="Not busy").click()
        await expect(board.locator("#busy-state")).to_have_text("Not busy")
    finally:
        await kitchen.page.context.close()
    assert kitchen.problems == []
