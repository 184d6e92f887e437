"""Paying by card with Stripe in the browser: the order's page shows the Payment Element (the
tests' stand-in Stripe.js, served by the local Stripe stand-in), confirms the payment there, 3-D
Secure included, and the order goes to the kitchen when the stand-in's signed webhook arrives.
The page's Content-Security-Policy must let the provider's script and calls through: any
refusal fails the test (watched_page)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import msgspec
import pytest
from playwright.async_api import Browser, expect

from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from tests.conftest import FixtureMenu
from tests.payments.stripe_standin import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeStandIn,
)
from tests.payments.test_stripe import WEBHOOK
from tests.web.actions import TRACKING_URL, add_item, fill_contact
from tests.web.conftest import (
    DESKTOP,
    BrowserPage,
    LiveServer,
    server_with,
    wait_for_menu,
    watched_page,
)

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def stripe_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    with StripeStandIn(WEBHOOK_SECRET) as stripe:
        settings = {
            "GOURMET_PAYMENTS__PROVIDER": "stripe",
            "GOURMET_PAYMENTS__STRIPE_SECRET_KEY": SECRET_KEY,
            "GOURMET_PAYMENTS__STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "GOURMET_PAYMENTS__STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "GOURMET_PAYMENTS__STRIPE_API_URL": stripe.url,
            "GOURMET_PAYMENTS__STRIPE_JS_URL": f"{stripe.url}/v3/",
        }
        with server_with(
            database_url, tmp_path_factory.mktemp("stripe-server"), settings
        ) as server:
            stripe.send_events_to(server.url + WEBHOOK)
            yield server


@pytest.fixture
async def stripe_page(
    browser: Browser, stripe_server: LiveServer, shop: FixtureMenu, conn: Conn
) -> AsyncIterator[BrowserPage]:
    await wait_for_menu(stripe_server, msgspec.to_builtins(await menu_repo.fetch_menu(conn)))
    async with watched_page(browser, stripe_server, DESKTOP) as watched:
        yield watched


async def place_card_order(page: BrowserPage) -> None:
    await page.page.goto("/")
    await add_item(page.page, "Cake")
    await page.page.goto("/checkout")
    await fill_contact(page.page)
    await page.page.get_by_role("radio", name="Card").check()
    await expect(page.page.get_by_text("You pay by card on the next page")).to_be_visible()
    await page.page.get_by_role("button", name="Place order").click()
    await expect(page.page).to_have_url(TRACKING_URL)
    await expect(page.page.locator("[data-status-label]")).to_have_text("Waiting for payment")


async def test_a_declined_card_then_3d_secure_pays_and_the_kitchen_gets_the_order(
    stripe_page: BrowserPage,
) -> None:
    page = stripe_page.page
    await place_card_order(stripe_page)
    card = page.get_by_label("Card (Stripe test mode)")
    await card.select_option("pm_card_chargeDeclined")
    await page.get_by_role("button", name="Pay now").click()
    await expect(page.locator("[data-payment-error]")).to_have_text("Your card was declined.")
    await expect(page.locator("[data-status-label]")).to_have_text("Waiting for payment")

    await card.select_option("pm_card_threeDSecure2Required")
    await page.get_by_role("button", name="Pay now").click()
    await expect(page.locator("[data-status-label]")).to_have_text("Order received")
    await expect(page.locator("[data-payment]")).to_have_text("Paid by card")
    await expect(page.locator("[data-payment-recovery]")).to_be_hidden()


async def test_the_order_page_can_still_switch_to_pay_at_pickup(stripe_page: BrowserPage) -> None:
    page = stripe_page.page
    await place_card_order(stripe_page)
    await expect(page.get_by_label("Card (Stripe test mode)")).to_be_visible()
    await page.get_by_role("button", name="Pay at pickup instead").click()
    await expect(page.locator("[data-status-label]")).to_have_text("Order received")
    await expect(page.locator("[data-payment]")).to_have_text("Pay at pickup (or to the driver)")
