"""The manager sets hours as restaurants have them, in a real browser: a delivery-only evening
period, and a holiday closed with a message, which checkout then gives as its reason."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect

from gourmet.config import Settings
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.web.actions import sign_in_as_staff
from tests.web.conftest import BrowserPage, LiveServer, screenshot

pytestmark = pytest.mark.anyio


async def test_a_manager_sets_delivery_hours_and_a_holiday(
    desktop: BrowserPage, live_server: LiveServer, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    page = desktop.page
    await sign_in_as_staff(page, live_server.url, "/manage")
    status = page.locator("#status")

    hours = page.get_by_role("region", name="Opening hours")
    # Monday: pickup all day, and delivery in the evening only.
    await hours.get_by_label("For, period 1").select_option("pickup")
    await hours.get_by_role("button", name="Add a period").click()
    last = hours.locator("#hours-rows tr").last
    await last.get_by_label("For, period 8").select_option("delivery")
    await last.get_by_label("Opens, period 8").fill("18:00")
    await last.get_by_label("Closes, period 8").fill("22:00")
    await hours.get_by_role("button", name="Save opening hours").click()
    await expect(status).to_have_text("Opening hours saved.")
    rules = (await api.get("/api/manage/restaurant", headers=STAFF_HEADERS)).json()
    assert {
        "weekday": 0,
        "opens_minute": 1080,
        "closes_minute": 1320,
        "fulfilment": "delivery",
    } in rules["hours"]

    today = datetime.now(ZoneInfo(Settings().restaurant.timezone)).date().isoformat()
    special = page.get_by_role("region", name="Holidays and special days")
    await special.get_by_role("button", name="Add a day").click()
    await special.get_by_label("Date of special day 1").fill(today)
    await expect(special.get_by_label("Opens, special day 1")).to_be_disabled()
    await special.get_by_label("Message, special day 1").fill("Closed for the staff party")
    await special.get_by_role("button", name="Save special days").click()
    await expect(status).to_have_text("Special days saved.")
    await screenshot(page, "manage-special-days-desktop", full_page=True)

    await page.goto("/checkout")
    await expect(page.locator("[data-closed-today]")).to_have_text(
        "Closed today: Closed for the staff party. You can still order for another day: "
        "choose a time below."
    )
    refused = await api.post("/api/orders", json=checkout_body([{"item_id": shop.cake}]))
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("Closed today: Closed for the staff party.")
