"""Markup payloads for every field a customer or the staff fill in, and the checks that a page
shows them as text (used by test_markup_everywhere.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx
from playwright.async_api import Locator, Page, expect

from tests.conftest import STAFF_HEADERS
from tests.ordering.helpers import checkout_body
from tests.web.conftest import (
    MENU_RELOAD_DEADLINE_S,
)

# The longest payload that fits a field is used; each would create marked elements if parsed.
PAYLOADS = (
    "\"'></script><script data-pwn>pwned=1</script>"
    "<img src=x data-pwn onerror=pwned=1><svg data-pwn onload=pwned=1>",  # 110 characters
    "\"'></script><img src=x data-pwn onerror=pwned=1>",  # 48
    "\"'><svg/data-pwn/onload=pwned=1>",  # 32
    "\"'><b/data-pwn>",  # 15
)


def hostile(label: str, limit: int) -> str:
    """``label`` and the longest payload that fits the field's ``limit`` (its schema's
    max_length); the label tells the fields apart on a page that shows several."""
    return next(text for p in PAYLOADS if len(text := f"{label} {p}") <= limit)


# Planted by the manager (gourmet/management/schemas.py).
CATEGORY = hostile("Category", 80)
ITEM = hostile("Item", 120)
ITEM_PRICE = "$20.00"
DESCRIPTION = hostile("Description", 1000)
DIETARY = hostile("Diet", 40)
ALLERGEN = hostile("Allergy", 40)
GROUP = hostile("Group", 80)
OPTION = hostile("Option", 80)
ZONE = hostile("Zone", 80)
PAUSE_MESSAGE = hostile("Paused", 300)
SPECIAL_DAY_MESSAGE = hostile("Holiday", 200)
# By a customer (gourmet/ordering/schemas.py, gourmet/accounts/schemas.py).
CUSTOMER = hostile("Customer", 100)
PHONE = hostile("555", 32)
STREET = hostile("Street", 200)
CITY = hostile("City", 100)
POSTCODE = "AB1<b/data-pwn>"  # 16 at most, and in the fixture's zone AB1
SHOWN_POSTCODE = POSTCODE.upper()  # stored normalised
OUTSIDE_POSTCODE = "QQ<b/data-pwn>"  # in no zone: the refusal names it
ORDER_NOTES = hostile("Order note", 500)
LINE_NOTES = hostile("Line note", 200)
ACCOUNT_NAME = hostile("Account", 100)
# One mailbox (the server refuses anything else, so no < > " or spaces), lower-cased: what is
# left of markup is a quote, an entity, a template and an attribute.
ACCOUNT_EMAIL = "x'/onerror=pwned=1&amp{{7*7}}`$!#%*+?^|~@example.com"
STAFF_EMAIL = ACCOUNT_EMAIL.replace("x", "staff", 1)
# In a link to a sign-in page: a path on this site, so the page keeps it (no spaces either).
NEXT_PATH = "/\"'></script><svg/data-pwn/onload=pwned=1>"
# By the kitchen and the operators (gourmet/ordering/schemas.py, observability/status/schemas.py).
REASON = hostile("Reason", 300)
REJECTION = hostile("Rejected", 300)
INCIDENT_TITLE = hostile("Incident", 120)
INCIDENT_MESSAGE = hostile("Incident message", 2000)
INCIDENT_UPDATE = hostile("Update", 2000)


@dataclass(frozen=True)
class HostileMenu:
    item: int
    option: int


async def as_staff(api: httpx.AsyncClient, method: str, path: str, body: Any) -> Any:
    response = await api.request(method, path, json=body, headers=STAFF_HEADERS)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def served_menu(api: httpx.AsyncClient, done: Any) -> None:
    """Wait for the server's menu cache to reload (through NOTIFY) into the state ``done``."""
    deadline = time.monotonic() + MENU_RELOAD_DEADLINE_S
    while not done(menu := (await api.get("/api/menu")).json()):
        assert time.monotonic() < deadline, f"menu not reloaded: {menu}"
        await anyio.sleep(0.05)  # polling interval; the deadline above bounds the wait


def items_of(menu: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for category in menu["categories"] for item in category["items"]]


def hostile_order(menu: HostileMenu) -> dict[str, Any]:
    """A delivery order whose every free-text field is markup."""
    line = {"item_id": menu.item, "option_ids": [menu.option], "notes": LINE_NOTES}
    address = {"line1": STREET, "city": CITY, "postcode": POSTCODE}
    body = checkout_body(
        [line], fulfilment="delivery", address=address, name=CUSTOMER, notes=ORDER_NOTES
    )
    body["customer"]["phone"] = PHONE
    return body


async def place(api: httpx.AsyncClient, menu: HostileMenu) -> dict[str, Any]:
    response = await api.post("/api/orders", json=hostile_order(menu))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def shows(scope: Page | Locator, *texts: str) -> None:
    """Each of ``texts`` is on screen, as text."""
    for text in texts:
        await expect(scope.get_by_text(text).first).to_be_visible()


async def nothing_parsed(page: Page) -> None:
    """No element of any payload exists and none of its script ran."""
    await expect(page.locator("[data-pwn]")).to_have_count(0)
    assert await page.evaluate("window.pwned") is None
