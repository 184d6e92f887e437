"""Markup and script typed into every field a customer or the staff fill in, rendered on every
page that shows it, in real Chromium: each shows as the text that was typed, no element of it is
created, and none of it runs. Checked three ways on each page: the typed text is visible, no
element carries the payload's ``data-pwn`` marker (so escaping, not the Content Security
Policy, is what stopped it), and ``window.pwned`` was never set; the page fixture also fails on
any dialog, page error or CSP refusal."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from gourmet.accounts.guards import SESSION_COOKIE
from tests.accounts.helpers import CSRF, PASSWORD
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.web.actions import sign_in_as_staff
from tests.web.conftest import DESKTOP, BrowserPage, LiveServer, open_page

pytestmark = pytest.mark.anyio


def payload(tag: str) -> str:
    """Text that would close an attribute, create two marked elements and run script, were it
    ever parsed."""
    return f"\"'><img src=x data-pwn onerror=pwned=1>{tag}<script data-pwn>pwned=1</script>"


PHONE = "<b data-pwn>555-0100</b>"  # a phone number is at most 32 characters


async def created(api: httpx.AsyncClient, method: str, path: str, body: Any) -> Any:
    response = await api.request(method, path, json=body, headers=STAFF_HEADERS)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def hostile_restaurant(api: httpx.AsyncClient) -> dict[str, Any]:
    """A category, an item (name, description), a modifier group and option, an incident, all
    by the staff; a customer account (name) and its order (name, phone, notes, line notes)."""
    category = await created(api, "POST", "/api/manage/categories", {"name": payload("CAT")})
    item = await created(
        api,
        "POST",
        "/api/manage/items",
        {
            "category_id": category["id"],
            "name": payload("ITEM"),
            "description": payload("DESC"),
            "price_cents": 500,
        },
    )
    groups = {
        "groups": [
            {"name": payload("GROUP"), "options": [{"name": payload("OPT")}], "min_choices": 1}
        ]
    }
    item = await created(api, "PUT", f"/api/manage/items/{item['id']}/modifiers", groups)
    option = item["modifier_groups"][0]["options"][0]["id"]
    await created(
        api,
        "POST",
        "/api/ops/incidents",
        {"state": "investigating", "title": payload("TITLE"), "message": payload("INCIDENT")},
    )
    account = await api.post(
        "/api/accounts",
        json={"email": "eve@example.com", "password": PASSWORD, "name": payload("ACCOUNT")},
        headers=CSRF,
    )
    assert account.status_code == 201, account.text
    session = account.cookies[SESSION_COOKIE]
    api.cookies.clear()
    order = await api.post(
        "/api/orders",
        json={
            "fulfilment": "pickup",
            "customer": {"name": payload("NAME"), "phone": PHONE, "email": "eve@example.com"},
            "lines": [{"item_id": item["id"], "option_ids": [option], "notes": payload("LINE")}],
            "notes": payload("NOTES"),
        },
        headers={"Cookie": f"{SESSION_COOKIE}={session}", **CSRF},
    )
    assert order.status_code == 201, order.text
    return {"item": item, "option": option, "order": order.json(), "session": session}


async def assert_inert(page: Page, *tags: str) -> None:
    """Each tag's payload is on the page as text; nothing of any payload became an element,
    and no script of it ran."""
    for tag in tags:
        await expect(page.get_by_text(payload(tag)).first).to_be_visible()
    await expect(page.locator("[data-pwn]")).to_have_count(0)
    assert await page.evaluate("typeof window.pwned") == "undefined", page.url


async def test_customer_and_staff_text_is_inert_on_every_page(
    browser: Browser, live_server: LiveServer, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    planted = await hostile_restaurant(api)
    order, item = planted["order"], planted["item"]
    customer = await open_page(browser, live_server, DESKTOP)
    staff = await open_page(browser, live_server, DESKTOP)
    try:
        await customer_pages(customer, live_server, planted)
        await staff_pages(staff, live_server, order)
        # Text that arrives live is drawn by the pages' scripts: escaped there too.
        reason = payload("REASON")
        moved = await api.post(
            f"/api/staff/orders/{order['number']}/status",
            json={"status": "rejected", "reason": reason},
            headers=STAFF_HEADERS,
        )
        assert moved.status_code == 200, moved.text
        page = customer.page
        await page.goto(f"/orders/{order['token']}")
        await expect(page.locator("[data-terminal-text]")).to_contain_text(reason)
        await assert_inert(page, "NAME", "NOTES", "REASON")
        assert item["name"] == payload("ITEM")
    finally:
        await customer.page.context.close()
        await staff.page.context.close()
    assert customer.problems == []
    assert staff.problems == []


async def customer_pages(
    customer: BrowserPage, live_server: LiveServer, planted: dict[str, Any]
) -> None:
    page, order, item = customer.page, planted["order"], planted["item"]
    await page.goto("/")  # the menu, and the status banner of the open incident
    await assert_inert(page, "CAT", "ITEM", "DESC", "TITLE")
    await page.goto("/status")
    await assert_inert(page, "TITLE", "INCIDENT")
    # The checkout draws the cart from the menu's data (names from the server, by script).
    cart = {
        "version": 1,
        "lines": [
            {
                "key": f"{item['id']}|{planted['option']}|",
                "itemId": item["id"],
                "optionIds": [planted["option"]],
                "notes": "",
                "quantity": 1,
                "name": item["name"],
                "unitCents": 500,
                "optionNames": [payload("OPT")],
            }
        ],
    }
    await page.evaluate("cart => localStorage.setItem('gourmet.cart', JSON.stringify(cart))", cart)
    await page.goto("/checkout")
    await assert_inert(page, "ITEM")
    await expect(page.get_by_role("complementary")).to_contain_text(payload("OPT"))
    await page.goto(f"/orders/{order['token']}")
    await assert_inert(page, "NAME", "NOTES", "ITEM", "OPT")
    await expect(page.locator("main")).to_contain_text(payload("LINE"))
    await page.context.add_cookies(
        [{"name": SESSION_COOKIE, "value": planted["session"], "url": live_server.url}]
    )
    await page.goto("/account")
    await assert_inert(page, "ACCOUNT")
    await expect(page.locator("main")).to_contain_text(payload("ITEM"))


async def staff_pages(staff: BrowserPage, live_server: LiveServer, order: dict[str, Any]) -> None:
    page = staff.page
    await sign_in_as_staff(page, live_server.url, "/kitchen")
    card = page.locator(f'li[data-token="{order["token"]}"]')
    await expect(card).to_contain_text(payload("NAME"))
    await assert_inert(page, "NAME", "NOTES")
    await expect(card).to_contain_text(payload("LINE"))
    await expect(card).to_contain_text(payload("OPT"))
    await page.goto("/manage")
    await expect(page.locator("#status")).not_to_have_text("Loading…")
    await assert_inert(page, "ITEM")
    await expect(page.locator("main")).to_contain_text(payload("CAT"))
    await page.goto("/ops")
    await expect(page.locator("main")).to_contain_text(payload("TITLE"))
    await assert_inert(page)
    await page.goto("/phone")
    await expect(page.locator("#phone-item")).to_contain_text(payload("ITEM"))
    await assert_inert(page)
