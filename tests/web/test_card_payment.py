"""Paying by card in the browser, against the sandbox provider: a declined card keeps the order
and offers another card or paying at pickup."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.conftest import FixtureMenu
from tests.web.actions import TRACKING_URL, add_item, fill_contact
from tests.web.conftest import BrowserPage

pytestmark = pytest.mark.anyio


async def pay_with_declined_card(page: BrowserPage) -> None:
    await page.page.goto("/")
    await add_item(page.page, "Cake")
    await page.page.goto("/checkout")
    await fill_contact(page.page)
    await page.page.get_by_role("radio", name="Card").check()
    await page.page.get_by_label("Test card (sandbox)").first.select_option("tok_decline")
    await page.page.get_by_role("button", name="Place order").click()
    await expect(page.page.get_by_text("Your card was declined.")).to_be_visible()


async def test_declined_card_then_another_card(
    card_desktop: BrowserPage, card_shop: FixtureMenu
) -> None:
    page = card_desktop.page
    await pay_with_declined_card(card_desktop)
    recovery = page.locator("[data-payment-recovery]")
    await recovery.get_by_label("Test card (sandbox)").select_option("tok_decline")
    await recovery.get_by_role("button", name="Try another card").click()
    await expect(recovery.locator("[data-payment-error]")).to_contain_text("declined")

    await recovery.get_by_label("Test card (sandbox)").select_option("tok_visa")
    await recovery.get_by_role("button", name="Try another card").click()
    await expect(page).to_have_url(TRACKING_URL)
    await expect(page.locator("[data-status-label]")).to_have_text("Order received")
    await expect(page.locator("[data-payment]")).to_have_text("Paid by card")


async def test_declined_card_then_pay_at_pickup(
    card_desktop: BrowserPage, card_shop: FixtureMenu
) -> None:
    page = card_desktop.page
    await pay_with_declined_card(card_desktop)
    await page.get_by_role("button", name="Pay at pickup instead").click()
    await expect(page).to_have_url(TRACKING_URL)
    await expect(page.locator("[data-status-label]")).to_have_text("Order received")
    await expect(page.locator("[data-payment]")).to_have_text("Pay at pickup (or to the driver)")
