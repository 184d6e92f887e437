"""The kitchen board with a station printer, in real Chromium against a real server: a printer
that is off is said above the board while the accepted order's ticket waits, the ticket prints
once the printer answers (a real TCP listener decoding ESC/POS), and "Reprint" prints it again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.conftest import FixtureMenu
from tests.kitchen.escpos_printer import printer_on
from tests.polling import wait_for
from tests.processes import free_port
from tests.web.actions import order_by_api
from tests.web.conftest import LiveServer, screenshot, server_with, staff_page

pytestmark = pytest.mark.anyio

PRINTER_PORT = free_port()


@pytest.fixture(scope="module")
def printing_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = {
        "GOURMET_KITCHEN__PRINTERS": json.dumps({"grill": f"127.0.0.1:{PRINTER_PORT}"}),
        "GOURMET_NOTIFICATIONS__OUTBOX_EVERY_S": "0.2",
    }
    with server_with(database_url, tmp_path_factory.mktemp("printing"), settings) as server:
        yield server


async def test_a_printer_that_is_off_is_said_on_the_board_and_prints_when_back(
    browser: Browser, shop: FixtureMenu, printing_server: LiveServer
) -> None:
    async with httpx.AsyncClient(base_url=printing_server.url) as api:
        order = await order_by_api(api, [{"item_id": shop.cake, "quantity": 2}])
    async with staff_page(browser, printing_server, "/kitchen") as page:
        await see_the_printer_off_then_back(page, order)


async def see_the_printer_off_then_back(page: Page, order: dict[str, Any]) -> None:
    card = page.locator(f'li[data-token="{order["token"]}"]')
    await card.get_by_role("button", name="Accept").click()
    banner = page.locator("#printers")
    await expect(banner).to_contain_text(
        "Printer grill is not answering: 1 ticket(s) waiting", timeout=15_000
    )
    await screenshot(page, "kitchen-printer-off")
    async with printer_on(PRINTER_PORT) as printer:

        async def tickets() -> list[list[str]]:
            return printer.tickets

        (ticket,) = await wait_for(tickets, lambda found: len(found) == 1, timeout_s=20)
        assert ticket[0].strip() == f"ORDER {order['number']}"
        await expect(banner).to_be_hidden(timeout=15_000)
        accepted = page.locator(
            f'.column[data-status="accepted"] li[data-token="{order["token"]}"]'
        )
        await accepted.get_by_role("button", name="Reprint").click()
        found = await wait_for(tickets, lambda found: len(found) == 2, timeout_s=20)
        assert found[1][0] == "*** REPRINT ***"
