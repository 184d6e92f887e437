"""The admin's staff accounts page in real Chromium: add a cook, make them a manager, remove
them; the last admin cannot be removed, and the page says why."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.web.actions import sign_in_as_staff
from tests.web.conftest import BrowserPage, LiveServer, screenshot

pytestmark = pytest.mark.anyio


async def test_an_admin_adds_promotes_and_removes_a_cook(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient, live_server: LiveServer
) -> None:
    admin = await api.post(
        "/api/admin/accounts",
        json={"email": "owner@example.com", "password": "correct horse battery", "role": "admin"},
        headers=STAFF_HEADERS,
    )
    assert admin.status_code == 201, admin.text
    page = desktop.page
    await sign_in_as_staff(page, live_server.url, "/manage/staff")
    form = page.locator("#add-account")
    await form.get_by_label("Email").fill("cook@example.com")
    await form.get_by_label("Name").fill("Sam")
    await form.get_by_label("Password").fill("correct horse battery")
    await form.get_by_role("button", name="Add the account").click()
    await expect(page.locator("#said")).to_have_text("cook@example.com can now sign in as staff.")
    await page.get_by_label("Role of cook@example.com").select_option("manager")
    await expect(page.locator("#said")).to_have_text("cook@example.com is now manager.")
    await screenshot(page, "manage-staff")
    await page.get_by_role("button", name="Remove owner@example.com").click()
    await expect(page.locator("#said")).to_contain_text("is the last admin")
    await page.get_by_role("button", name="Remove cook@example.com").click()
    await expect(page.locator("#said")).to_have_text(
        "cook@example.com was removed; their sessions ended."
    )
    await expect(page.locator("#accounts tbody tr")).to_have_count(1)
    # The owner stays: the last admin.
    listed = (await api.get("/api/admin/accounts", headers=STAFF_HEADERS)).json()
    assert [a["email"] for a in listed] == ["owner@example.com"]
