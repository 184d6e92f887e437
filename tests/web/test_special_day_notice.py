"""A special day on the menu page: "Closed today" with the manager's message, or today's own
hours, worked out in the restaurant's time zone (the page itself is cached past midnight)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.polling import wait_for
from tests.web.conftest import TIMEZONE, BrowserPage, LiveServer

pytestmark = pytest.mark.anyio
FAR_EAST = "Pacific/Kiritimati"


async def set_special_days(api: httpx.AsyncClient, days: list[dict[str, object]]) -> None:
    response = await api.put("/api/manage/special-days", json={"days": days}, headers=STAFF_HEADERS)
    assert response.status_code == 200, response.text
    wanted = [day["day"] for day in days]
    await wait_for(  # the menu cache reloads on NOTIFY
        lambda: api.get("/api/menu"),
        lambda menu: [d["day"] for d in menu.json()["special_days"]] == wanted,
    )


@pytest.mark.parametrize(
    ("closed", "shown"),
    [
        (True, "Closed today: Family wedding"),
        (False, "Today we are open 12:00\u201316:00 only: Family wedding"),
    ],
)
async def test_the_menu_page_says_when_today_is_a_special_day(
    browser: Browser,
    live_server: LiveServer,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
    closed: bool,
    shown: str,
) -> None:
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    hours = {} if closed else {"opens_minute": 720, "closes_minute": 960}
    await set_special_days(
        api,
        [
            {"day": today.isoformat(), "closed": closed, "message": "Family wedding", **hours},
            {"day": (today + timedelta(days=3)).isoformat(), "closed": True},
        ],
    )
    # A browser whose own clock is a day ahead of the restaurant's for most of the day (UTC+14
    # against New York): the page must say what today is where the restaurant is.
    context = await browser.new_context(base_url=live_server.url, timezone_id=FAR_EAST)
    try:
        page = await context.new_page()
        await page.goto("/")
        await expect(page.locator("[data-special-today]")).to_have_text(shown)
    finally:
        await context.close()


async def test_a_special_day_ahead_says_nothing_today(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    today = datetime.now(ZoneInfo(TIMEZONE)).date()
    await set_special_days(api, [{"day": (today + timedelta(days=2)).isoformat(), "closed": True}])
    await desktop.page.goto("/")
    await expect(desktop.page.locator("[data-special-today]")).to_be_hidden()
