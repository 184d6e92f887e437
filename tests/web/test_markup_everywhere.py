"""Markup typed into any field a customer or the staff fill in stays text on every page that shows
it, in real Chromium.

Each field gets its own label followed by markup that would break out of an attribute, a JSON
island and the page, creating elements marked ``data-pwn`` whose handlers set ``window.pwned``.
On every page the text must be visible as typed, no ``[data-pwn]`` element may exist (so escaping
stopped it, not only the Content Security Policy) and ``window.pwned`` must stay unset. The page
fixtures also fail on any dialog, page error or CSP refusal. Text that arrives live (the kitchen
board's cards, a status change on the tracking page, the console's messages) is checked too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.accounts.helpers import CSRF, PASSWORD
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.web.actions import fill_contact, sign_in_as_staff
from tests.web.conftest import (
    DESKTOP,
    TIMEZONE,
    BrowserPage,
    LiveServer,
    move_order,
    watched_page,
)
from tests.web.hostile import (
    ACCOUNT_EMAIL,
    ACCOUNT_NAME,
    ALLERGEN,
    CATEGORY,
    CITY,
    CUSTOMER,
    DESCRIPTION,
    DIETARY,
    GROUP,
    INCIDENT_MESSAGE,
    INCIDENT_TITLE,
    INCIDENT_UPDATE,
    ITEM,
    ITEM_PRICE,
    LINE_NOTES,
    NEXT_PATH,
    OPTION,
    ORDER_NOTES,
    OUTSIDE_POSTCODE,
    PAUSE_MESSAGE,
    PHONE,
    REASON,
    REJECTION,
    SHOWN_POSTCODE,
    SPECIAL_DAY_MESSAGE,
    STAFF_EMAIL,
    STREET,
    ZONE,
    HostileMenu,
    as_staff,
    hostile_order,
    items_of,
    nothing_parsed,
    place,
    served_menu,
    shows,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def hostile_menu(shop: FixtureMenu, api: httpx.AsyncClient) -> HostileMenu:
    """A category, an item (name, description, tags) and its option group, all named with
    markup through the manager's API, and the customers' menu showing them."""
    category = await as_staff(api, "POST", "/api/manage/categories", {"name": CATEGORY})
    item = await as_staff(
        api,
        "POST",
        "/api/manage/items",
        {
            "category_id": category["id"],
            "name": ITEM,
            "price_cents": 2000,  # over the delivery zone's minimum order
            "description": DESCRIPTION,
            "dietary": [DIETARY],
            "allergens": [ALLERGEN],
        },
    )
    group = {
        "name": GROUP,
        "min_choices": 1,
        "max_choices": 1,
        "options": [{"name": OPTION, "price_delta_cents": 100}],
    }
    item = await as_staff(
        api, "PUT", f"/api/manage/items/{item['id']}/modifiers", {"groups": [group]}
    )
    await served_menu(
        api,
        lambda m: any(g["name"] == GROUP for i in items_of(m) for g in i["modifier_groups"]),
    )
    return HostileMenu(item["id"], item["modifier_groups"][0]["options"][0]["id"])


async def test_menu_and_checkout_show_menu_text_and_typed_text_as_text(
    desktop: BrowserPage, hostile_menu: HostileMenu
) -> None:
    """Attacked: category, item name (also in an attribute and the menu's JSON island),
    description, tags, option group and option names, a line's notes typed in the item dialog
    (the cart, kept in the browser), and a postcode typed at checkout that the refusal echoes."""
    page = desktop.page
    await page.goto("/")
    await shows(page, CATEGORY, ITEM, DESCRIPTION, DIETARY, f"Contains: {ALLERGEN}")
    await expect(page.locator(f"#item-{hostile_menu.item}")).to_have_attribute(
        "data-item-name", ITEM
    )
    await nothing_parsed(page)

    await page.locator(f"#item-{hostile_menu.item}").get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    await expect(dialog.locator("#dialog-title")).to_have_text(ITEM)
    await shows(dialog, DESCRIPTION, GROUP, OPTION)
    await dialog.get_by_label(OPTION).check()
    await dialog.get_by_label("Special instructions").fill(LINE_NOTES)
    await nothing_parsed(page)
    await dialog.get_by_role("button", name="Add to order").click()
    await expect(dialog).to_be_hidden()
    await shows(page, f"Added 1 \u00d7 {ITEM} to your order.")
    cart = page.get_by_role("complementary")
    await shows(cart, ITEM, OPTION, f"Note: {LINE_NOTES}")
    await nothing_parsed(page)

    await page.goto("/checkout")
    summary = page.get_by_role("complementary")
    await shows(summary, ITEM, OPTION, f"Note: {LINE_NOTES}")
    await page.get_by_label("Delivery").check()
    await page.get_by_label("Street address").fill(STREET)
    await page.get_by_label("ZIP code").fill(OUTSIDE_POSTCODE)
    await fill_contact(page, name=CUSTOMER, notes=ORDER_NOTES)
    await page.get_by_role("button", name="Place order").click()
    await expect(page.locator('[data-error-for="address.postcode"]')).to_contain_text(
        OUTSIDE_POSTCODE
    )
    await nothing_parsed(page)


async def test_tracking_page_shows_the_order_and_its_live_changes_as_text(
    desktop: BrowserPage, hostile_menu: HostileMenu, api: httpx.AsyncClient
) -> None:
    """Attacked: customer name, phone, street, city, postcode, order notes, line notes, item and
    option names (rendered by the server), then a rejection reason (drawn live by the script,
    in the notice and the history, and by the server after a reload)."""
    page = desktop.page
    order = await place(api, hostile_menu)
    await page.goto(f"/orders/{order['token']}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Thank you, {CUSTOMER}!")
    await expect(page.locator("[data-notes]")).to_have_text(ORDER_NOTES)
    await shows(page, PHONE, f"{STREET}, {CITY} {SHOWN_POSTCODE}", ITEM, OPTION)
    await shows(page, f"Note: {LINE_NOTES}")
    await nothing_parsed(page)

    await move_order(api, order["number"], "rejected", reason=REJECTION)
    terminal = f"The restaurant could not take this order: {REJECTION}."
    await expect(page.locator("[data-terminal-text]")).to_have_text(terminal)  # live
    await expect(page.locator("[data-history]")).to_contain_text(REJECTION)
    await nothing_parsed(page)
    await page.reload()
    await expect(page.locator("[data-terminal-text]")).to_have_text(terminal)
    await expect(page.locator("[data-history]")).to_contain_text(REJECTION)
    await nothing_parsed(page)


async def test_account_page_shows_the_account_and_its_orders_as_text(
    desktop: BrowserPage, hostile_menu: HostileMenu, live_server: LiveServer
) -> None:
    """Attacked: the name and email typed at sign-up, and the order history (item, option),
    then a reorder carrying the line's notes through the page's JSON island to the cart."""
    page = desktop.page
    await page.goto("/account/signup")
    await page.get_by_label("Name").fill(ACCOUNT_NAME)
    await page.get_by_label("Email").fill(ACCOUNT_EMAIL)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("[data-account-name]")).to_have_text(ACCOUNT_NAME)
    await expect(page.locator("[data-account-email]")).to_have_text(ACCOUNT_EMAIL)
    await nothing_parsed(page)

    # Ordered with the browser's session cookie, so the order is the account's.
    placed = await page.request.post("/api/orders", data=hostile_order(hostile_menu), headers=CSRF)
    assert placed.status == 201, await placed.text()
    await page.reload()
    history = page.locator(".history-order")
    await expect(history).to_contain_text(f"1 \u00d7 {ITEM} ({OPTION})")
    await nothing_parsed(page)

    await history.get_by_role("button", name="Reorder").click()
    await expect(page).to_have_url(f"{live_server.url}/checkout")
    await shows(page.get_by_role("complementary"), ITEM, OPTION, f"Note: {LINE_NOTES}")
    await nothing_parsed(page)


async def test_kitchen_board_and_phone_page_show_orders_and_menu_as_text(
    browser: Browser, live_server: LiveServer, hostile_menu: HostileMenu, api: httpx.AsyncClient
) -> None:
    """Attacked on the kitchen board, drawn live from the stream: customer name, line (item,
    option, notes), order notes, street and postcode, and a status change's reason and actor (a
    staff account's email). On the phone order page: the category (an optgroup's label), the
    item (an option), the option group and option names drawn by its script, and the summary."""
    account = {"email": STAFF_EMAIL, "password": PASSWORD, "role": "staff"}
    await as_staff(api, "POST", "/api/admin/accounts", account)
    async with watched_page(browser, live_server, DESKTOP) as staff:
        page = staff.page
        await sign_in_as_staff(page, live_server.url, "/kitchen")
        await expect(page.locator("#connection")).to_have_text("Live")
        order = await place(api, hostile_menu)  # arrives while the board is open
        card = page.locator(f'li[data-token="{order["token"]}"]')
        await expect(card).to_contain_text(f"#{order['number']} {CUSTOMER}")
        await shows(card, f"1 \u00d7 {ITEM} ({OPTION}) \u2014 {LINE_NOTES}", ORDER_NOTES)
        await shows(card, f"{STREET}, {SHOWN_POSTCODE}")
        await nothing_parsed(page)

        # Accepted by the staff account, whose email the card names as the actor.
        async with httpx.AsyncClient(base_url=live_server.url, headers=CSRF) as member:
            signed_in = await member.post("/api/session", json=account)
            assert signed_in.status_code == 200, signed_in.text
            accepted = await member.post(
                f"/api/staff/orders/{order['number']}/status",
                json={"status": "accepted", "reason": REASON},
            )
            assert accepted.status_code == 200, accepted.text
        moved = page.locator(f'.column[data-status="accepted"] li[data-token="{order["token"]}"]')
        await expect(moved).to_contain_text(f"{REASON} \u00b7 {STAFF_EMAIL} \u00b7 ")
        await nothing_parsed(page)

        await page.goto("/phone")
        await expect(page.locator("#phone-item optgroup").last).to_have_attribute("label", CATEGORY)
        await page.get_by_label("Item", exact=True).select_option(label=f"{ITEM} ({ITEM_PRICE})")
        items = page.get_by_role("group", name="The caller's items")
        await shows(items, f"{GROUP} (choose 1)", OPTION)
        await items.get_by_label(OPTION).check()
        await items.get_by_label("Notes for this item").fill(LINE_NOTES)
        await items.get_by_role("button", name="Add to the order").click()
        await shows(page.get_by_role("complementary"), ITEM, OPTION, f"Note: {LINE_NOTES}")
        await nothing_parsed(page)


async def test_manager_console_and_pause_notice_show_text_as_text(
    browser: Browser, live_server: LiveServer, hostile_menu: HostileMenu, api: httpx.AsyncClient
) -> None:
    """Attacked on the manager's console: category and item names (headings, a select, labels),
    a delivery zone's name, the pause message, a special day's message, and the console's own
    live message naming the item. On the menu and checkout pages: the pause message."""
    in_a_month = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=30)
    await as_staff(
        api,
        "POST",
        "/api/manage/zones",
        {"name": ZONE, "postcode_prefixes": ["ZZ9"], "fee_cents": 0},
    )
    await as_staff(
        api,
        "PUT",
        "/api/manage/special-days",
        {"days": [{"day": in_a_month.isoformat(), "closed": True, "message": SPECIAL_DAY_MESSAGE}]},
    )
    await as_staff(api, "POST", "/api/manage/pause", {"paused": True, "message": PAUSE_MESSAGE})
    await served_menu(api, lambda m: m["ordering_paused"])

    async with watched_page(browser, live_server, DESKTOP) as manager:
        page = manager.page
        await sign_in_as_staff(page, live_server.url, "/manage")
        await expect(page.get_by_role("heading", name=CATEGORY)).to_be_visible()
        await expect(page.get_by_role("rowheader", name=ITEM)).to_be_visible()
        await expect(page.locator("#new-item-category option").last).to_have_text(CATEGORY)
        await expect(page.get_by_label(f"Name of zone {ZONE}")).to_have_value(ZONE)
        await expect(
            page.get_by_label("Message customers see while ordering is paused")
        ).to_have_value(PAUSE_MESSAGE)
        await expect(page.get_by_label("Message, special day 1")).to_have_value(SPECIAL_DAY_MESSAGE)
        await nothing_parsed(page)
        await page.get_by_role("button", name=f"86 {ITEM}").click()
        await expect(page.locator("#status")).to_have_text(
            f"{ITEM} is 86'd: customers cannot order it."
        )
        await nothing_parsed(page)

        for path in ("/", "/checkout"):
            await page.goto(path)
            await shows(page, PAUSE_MESSAGE)
            await nothing_parsed(page)


async def test_status_pages_show_incidents_as_text(
    desktop: BrowserPage, browser: Browser, live_server: LiveServer, api: httpx.AsyncClient
) -> None:
    """Attacked: an incident's title, first message and update, on the public status page
    (incident, updates, banner, component reason), in the banner of customer pages, and in the
    ops page's list of open incidents."""
    posted = await as_staff(
        api,
        "POST",
        "/api/ops/incidents",
        {
            "title": INCIDENT_TITLE,
            "state": "identified",
            "message": INCIDENT_MESSAGE,
            "components": ["ordering"],
        },
    )
    number = posted["incidents"][0]["id"]
    await as_staff(
        api,
        "POST",
        f"/api/ops/incidents/{number}",
        {"state": "monitoring", "message": INCIDENT_UPDATE},
    )
    try:
        page = desktop.page
        banner = f"{INCIDENT_TITLE}: {INCIDENT_UPDATE}"
        for path in ("/", "/account/signin"):
            await page.goto(path)
            await expect(page.locator(".banner")).to_have_text(banner)
            await nothing_parsed(page)

        await page.goto("/status")
        await expect(page.locator(".banner")).to_have_text(banner)
        incident = page.locator(".incident")
        await expect(incident.get_by_role("heading")).to_have_text(f"{INCIDENT_TITLE} monitoring")
        await shows(incident, INCIDENT_MESSAGE, INCIDENT_UPDATE)
        await expect(page.locator(".component .reason")).to_have_text(INCIDENT_TITLE)
        await nothing_parsed(page)

        async with watched_page(browser, live_server, DESKTOP) as operator:
            ops = operator.page
            # /ops answers 401 rather than sending a browser to sign in: go there first.
            await ops.goto("/ops/login?next=/ops")
            await ops.get_by_label("Staff token").fill(STAFF_TOKEN)
            await ops.get_by_role("button", name="Sign in").click()
            await expect(ops).to_have_url(f"{live_server.url}/ops")
            await expect(ops.locator("#incident-id option").last).to_have_text(
                f"#{number} {INCIDENT_TITLE}"
            )
            await nothing_parsed(ops)
    finally:  # no banner left for the tests after this one
        await as_staff(
            api, "POST", f"/api/ops/incidents/{number}", {"state": "resolved", "message": "Fixed."}
        )


@pytest.mark.parametrize("path", ["/ops/login", "/account/signin", "/account/signup"])
async def test_sign_in_pages_keep_a_hostile_next_path_as_text(
    desktop: BrowserPage, path: str
) -> None:
    """Attacked: the ``next`` path of a link to a sign-in page (anyone can send such a link),
    which the page keeps in a hidden field or a data attribute."""
    page = desktop.page
    await page.goto(f"{path}?{urlencode({'next': NEXT_PATH})}")
    kept = page.locator('input[name="next"], form[data-next]')
    attribute = "value" if path == "/ops/login" else "data-next"
    await expect(kept).to_have_attribute(attribute, NEXT_PATH)
    await nothing_parsed(page)
