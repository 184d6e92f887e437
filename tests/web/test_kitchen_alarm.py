"""The kitchen board on a tablet, in real Chromium against a real server whose alarm for
unaccepted orders is three seconds: a new order's alert sits above the board without covering
a column, and an order nobody accepts is said in red, its card marked, until it is accepted."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.async_api import Browser, ViewportSize, expect

from tests.conftest import FixtureMenu
from tests.web.actions import order_by_api
from tests.web.conftest import LiveServer, screenshot, server_with, staff_page

pytestmark = pytest.mark.anyio

TABLET: ViewportSize = {"width": 1024, "height": 768}


@pytest.fixture(scope="module")
def alarm_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    settings = {"GOURMET_KITCHEN__UNACCEPTED_ALARM_MINUTES": "0.05"}  # 3 s
    with server_with(database_url, tmp_path_factory.mktemp("alarm"), settings) as server:
        yield server


async def test_an_order_nobody_accepts_raises_the_alarm_and_no_alert_covers_the_board(
    browser: Browser, shop: FixtureMenu, alarm_server: LiveServer
) -> None:
    async with staff_page(browser, alarm_server, "/kitchen", TABLET) as board:
        await expect(board.locator("#connection")).to_have_text("Live")
        async with httpx.AsyncClient(base_url=alarm_server.url) as api:
            order = await order_by_api(api, [{"item_id": shop.cake}])
        alert = board.locator("#new-order")
        await expect(alert).to_be_visible()
        last_column = board.locator('.column[data-status="out_for_delivery"] h2')
        alert_box, column_box = await alert.bounding_box(), await last_column.bounding_box()
        assert alert_box is not None
        assert column_box is not None
        assert alert_box["y"] + alert_box["height"] <= column_box["y"]  # above, never over
        alarm = board.locator("#unaccepted")
        await expect(alarm).to_contain_text(f"Order #{order['number']} has waited", timeout=15_000)
        card = board.locator(f'li[data-token="{order["token"]}"]')
        await expect(card).to_have_class("card unaccepted-card")
        await screenshot(board, "kitchen-unaccepted")
        await card.get_by_role("button", name="Accept").click()
        await expect(alarm).to_be_hidden()
