"""Checkout when things go wrong: a full slot, a busy database, an item that cannot be had.
Each problem is shown where the customer looks, in words they understand, and never costs them
a second order."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import msgspec
import psycopg
import pytest
from playwright.async_api import Browser, Request, expect

from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from gourmet.web.rendering import clock_time
from tests.conftest import FixtureMenu
from tests.polling import wait_for
from tests.web.actions import TRACKING_URL, add_item, fill_contact, place_order
from tests.web.conftest import (
    DESKTOP,
    TIMEZONE,
    BrowserPage,
    LiveServer,
    screenshot,
    wait_for_menu,
    watched_page,
)

pytestmark = pytest.mark.anyio

TZ = ZoneInfo(TIMEZONE)


async def fill_slot(conn: Conn, start: str, capacity: int) -> None:
    """Other customers' orders fill the slot: its bookings, and the notice their checkouts
    send, which tells every process that slot lists changed (they hold them in memory)."""
    await conn.execute(
        "INSERT INTO slot_booking (fulfilment, slot_start, booked) VALUES ('pickup', %s, %s)"
        " ON CONFLICT (fulfilment, slot_start) DO UPDATE SET booked = EXCLUDED.booked",
        (datetime.fromisoformat(start), capacity),
    )
    await conn.execute("SELECT pg_notify('order_changed', '')")


async def test_full_slot_is_marked_and_the_next_free_one_offered(
    desktop: BrowserPage, api: httpx.AsyncClient, conn: Conn, shop: FixtureMenu
) -> None:
    page = desktop.page
    slots: list[dict[str, Any]] = (await api.get("/api/slots?fulfilment=pickup")).json()["slots"]
    # Slots a few places ahead, so that none of them turns "too soon" during the test.
    full, chosen, next_free = slots[1], slots[2], slots[3]
    await fill_slot(conn, full["start"], full["capacity"])

    await page.goto("/")
    await add_item(page, "Cake")
    await page.goto("/checkout")
    await fill_contact(page)
    await page.get_by_label("Choose a time").check()
    slot_select = page.get_by_label("Time slot")
    full_option = slot_select.locator(f'option[value="{full["start"]}"]')
    await expect(full_option).to_have_text(
        f"{clock_time(datetime.fromisoformat(full['start']), TZ)} \u2014 full"
    )
    await expect(full_option).to_be_disabled()

    await slot_select.select_option(chosen["start"])
    # Someone else takes the last place of the chosen slot before this customer clicks.
    await fill_slot(conn, chosen["start"], chosen["capacity"])
    await page.get_by_role("button", name="Place order").click()

    next_time = clock_time(datetime.fromisoformat(next_free["start"]), TZ)
    await expect(page.get_by_text("That time just filled up.")).to_be_visible()
    await expect(page.get_by_text(f"The next free time is {next_time}")).to_be_visible()
    await page.get_by_role("button", name=f"Order for {next_time} instead").click()

    await expect(page).to_have_url(TRACKING_URL)
    await expect(page.locator("[data-ready-time]")).to_have_text(next_time)
    await expect(page.get_by_text("(your chosen time)")).to_be_visible()


async def test_busy_database_retries_by_itself_with_the_same_idempotency_key(
    desktop: BrowserPage, database_url: str, conn: Conn, shop: FixtureMenu
) -> None:
    page = desktop.page
    keys: list[str | None] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/orders"):
            keys.append(request.headers.get("idempotency-key"))

    page.on("request", record)
    await page.goto("/")
    await add_item(page, "Cake")
    await page.goto("/checkout")
    await fill_contact(page)

    # Another session holds the orders table: checkouts hit the lock timeout and get a 503
    # "database-busy" with Retry-After; nothing is stored.
    async with await psycopg.AsyncConnection.connect(database_url) as locker:
        async with locker.transaction():
            await locker.execute("LOCK TABLE orders IN EXCLUSIVE MODE")
            await page.get_by_role("button", name="Place order").click()
            banner = page.locator("[data-busy-banner]")
            await expect(banner).to_contain_text(
                "We are very busy, your order was not placed \u2014 retrying in"
            )
            await expect(page.get_by_role("button", name="Waiting to retry")).to_be_disabled()
        # The lock is gone: the next automatic retry goes through.
        await expect(page).to_have_url(TRACKING_URL)

    assert len(keys) >= 2
    assert len(set(keys)) == 1
    assert keys[0]
    count = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert count is not None
    assert count["n"] == 1


async def test_unavailable_item_is_marked_and_cannot_be_ordered(
    desktop: BrowserPage, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.goto("/")
    salad = page.locator("li.item").filter(has=page.get_by_role("heading", name="Salad"))
    await expect(salad).to_contain_text("Unavailable")
    await expect(salad.get_by_role("button", name="Unavailable")).to_be_disabled()
    await expect(salad.locator("[data-add-item]")).to_have_count(0)
    await salad.get_by_role("button").click(force=True)
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await expect(page.locator("[data-cart-lines]")).to_contain_text("Your order is empty")

    # A cart saved before the salad ran out: checkout flags it and refuses to send it.
    await page.evaluate(
        """([salad, cake]) => localStorage.setItem("gourmet.cart", JSON.stringify({
            version: 1,
            lines: [
              {key: "s", itemId: salad, optionIds: [], notes: "", quantity: 1, name: "Salad"},
              {key: "c", itemId: cake, optionIds: [], notes: "", quantity: 1, name: "Cake"},
            ],
        }))""",
        [shop.salad, shop.cake],
    )
    await page.goto("/checkout")
    await fill_contact(page)
    summary = page.get_by_role("complementary")
    await expect(summary).to_contain_text("Not available right now. Please remove it.")
    await page.get_by_role("button", name="Place order").click()
    await expect(summary).to_contain_text("Some items cannot be ordered right now")
    await expect(page).not_to_have_url(TRACKING_URL)

    salad_line = summary.locator(".cart-line", has_text="Salad")
    await salad_line.get_by_role("button", name="Remove").click()
    await expect(summary.locator(".cart-line")).to_have_count(1)
    await place_order(page)
    await expect(page.locator(".order-line")).to_have_count(1)
    await expect(page.locator(".order-line")).to_contain_text("Cake")


async def test_delivery_zone_and_minimum_are_explained_next_to_their_fields(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    await page.goto("/")
    await add_item(page, "Cake", quantity=3)
    await page.goto("/checkout")
    await fill_contact(page)
    await page.get_by_label("Delivery").check()
    await page.get_by_label("Street address").fill("1 High Street")
    postcode = page.get_by_label("ZIP code")
    await postcode.fill("ZZ9")
    await page.get_by_role("button", name="Place order").click()

    await expect(page.locator("#address-postcode-error")).to_have_text(
        "We do not deliver to ZZ9. Pickup is always possible."
    )
    await expect(postcode).to_have_attribute("aria-invalid", "true")
    await expect(postcode).to_be_focused()

    # In the zone, but $12.00 is below its $15.00 minimum: said next to the order.
    await postcode.fill("AB1 2CD")
    await expect(page.locator("#address-postcode-error")).to_be_empty()
    await page.get_by_role("button", name="Place order").click()
    summary = page.get_by_role("complementary")
    await expect(summary).to_contain_text("add $3.00 more")

    await summary.get_by_role("button", name="One more Cake").click()
    await place_order(page)
    await expect(page.get_by_text("1 High Street")).to_be_visible()
    totals = page.locator(".totals")
    await expect(totals).to_contain_text("Delivery")
    await expect(totals).to_contain_text("$3.00")


async def lock_waiters(conn: Conn) -> int:
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
    ).fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_customer_in_line_sees_their_place_and_keeps_it_until_the_order_is_placed(
    browser: Browser,
    line_server: LiveServer,
    shop: FixtureMenu,
    database_url: str,
    conn: Conn,
) -> None:
    await wait_for_menu(line_server, msgspec.to_builtins(await menu_repo.fetch_menu(conn)))
    sent: list[dict[str, str]] = []

    def record(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/orders"):
            sent.append(request.headers)

    async with (
        watched_page(browser, line_server, DESKTOP) as watched,
        httpx.AsyncClient(base_url=line_server.url, timeout=15.0) as other,
    ):
        page = watched.page
        page.on("request", record)
        await page.goto("/")
        await add_item(page, "Cake")
        await page.goto("/checkout")
        await fill_contact(page)
        async with (
            await psycopg.AsyncConnection.connect(database_url) as locker,
            locker.transaction(),
        ):
            # Another customer's checkout takes the only place and blocks on a held lock.
            await locker.execute("LOCK TABLE orders IN EXCLUSIVE MODE")
            body = {
                "fulfilment": "pickup",
                "customer": {"name": "Grace", "phone": "555-0101"},
                "lines": [{"item_id": shop.cake}],
            }
            ahead = asyncio.create_task(
                other.post("/api/orders", json=body, headers={"Idempotency-Key": "ahead"})
            )
            await wait_for(lambda: lock_waiters(conn), lambda n: n == 1)
            await page.get_by_role("button", name="Place order").click()
            banner = page.locator("[data-busy-banner]")
            # Held in line, no answer yet: the page says so instead of a stuck button.
            await expect(banner).to_contain_text("you are in line for the kitchen")
            await expect(page.get_by_role("button", name="Waiting in line")).to_be_disabled()
            await expect(banner).to_contain_text("You are in line: number 1")
            await expect(banner).to_contain_text("your place is kept")
            await screenshot(page, "checkout-in-line")
        assert (await ahead).status_code == 201
        # The lock is gone: the next try, with the ticket, places the order.
        await expect(page).to_have_url(TRACKING_URL)

    assert len(sent) >= 2
    assert len({headers["idempotency-key"] for headers in sent}) == 1
    assert "gourmet-ticket" not in sent[0]
    assert sent[-1]["gourmet-ticket"]
    count = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert count is not None
    assert count["n"] == 2
