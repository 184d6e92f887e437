"""The status banner in a real browser: shown on customer pages while an incident is open."""

from __future__ import annotations

import time

import anyio
import httpx
import pytest
from playwright.async_api import Page, expect

from tests.conftest import STAFF_HEADERS
from tests.web.conftest import BrowserPage

pytestmark = pytest.mark.anyio

DEADLINE_S = 10.0


async def reload_until(page: Page, banner_shown: bool) -> None:
    """Reload until the server-rendered banner is (or is no longer) on the page."""
    deadline = time.monotonic() + DEADLINE_S
    banner = page.locator(".banner")
    while True:
        await page.reload()
        if (await banner.count() > 0) == banner_shown:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"banner {'never appeared' if banner_shown else 'stayed'}")
        await anyio.sleep(0.1)  # polling interval; the deadline above bounds the wait


async def test_banner_while_an_incident_is_open(
    desktop: BrowserPage, api: httpx.AsyncClient
) -> None:
    page = desktop.page
    await page.goto("/")
    await expect(page.locator(".banner")).to_have_count(0)
    posted = await api.post(
        "/api/ops/incidents",
        json={
            "title": "Kitchen oven repair",
            "state": "identified",
            "message": "Pizzas take 20 minutes longer.",
            "expected_resolution_at": "2030-01-01T19:45:00Z",
        },
        headers=STAFF_HEADERS,
    )
    assert posted.status_code == 201, posted.text
    number = posted.json()["incidents"][0]["id"]

    await reload_until(page, banner_shown=True)
    banner = page.locator(".banner")
    await expect(banner).to_contain_text("Kitchen oven repair: Pizzas take 20 minutes longer.")
    await expect(banner).to_contain_text("Expected back by 14:45.")  # New York's time
    await page.goto("/status")
    await expect(page.locator(".incident").first).to_contain_text("Kitchen oven repair")

    resolved = await api.post(
        f"/api/ops/incidents/{number}",
        json={"state": "resolved", "message": "The oven is fixed."},
        headers=STAFF_HEADERS,
    )
    assert resolved.status_code == 200
    await page.goto("/")
    await reload_until(page, banner_shown=False)
    await page.goto("/status")
    await expect(page.locator(".overall")).to_contain_text("All systems operational")
