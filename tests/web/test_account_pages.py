"""The customer's account pages in a real browser: sign up, order, see it listed, reorder it,
sign out; signing in (and where it leads), its error messages and its throttling.

Sign-in is throttled per client address too, and every browser here is 127.0.0.1 on one server
process shared by the whole session: the throttling test (last in this file) leaves that address
paused for five minutes, so no later test may sign in through ``POST /api/session`` (signing up
is not throttled). Each test uses its own email, so the per-email key starts fresh.
"""

from __future__ import annotations

import re
import uuid

import httpx
import msgspec
import pytest
from playwright.async_api import Page, expect

from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from tests.accounts.helpers import CSRF
from tests.conftest import FixtureMenu
from tests.web.actions import add_item, fill_contact, place_order
from tests.web.conftest import BrowserPage, LiveServer, move_order, screenshot, wait_for_menu

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"


def unique_email() -> str:
    return f"customer-{uuid.uuid4().hex[:12]}@example.com"


async def sign_up(page: Page, email: str, name: str = "Grace Hopper") -> None:
    await page.goto("/account/signup")
    await page.get_by_label("Name").fill(name)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Your account")).to_be_visible()


async def test_customer_signs_up_orders_reorders_and_signs_out(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu, live_server: LiveServer
) -> None:
    page = desktop.page
    email = unique_email()
    await sign_up(page, email)
    await expect(page).to_have_url(f"{live_server.url}/account")
    await expect(page.locator("[data-account-email]")).to_have_text(email)
    await expect(page.get_by_text("No orders yet.")).to_be_visible()
    await expect(page.locator("[data-account-link]")).to_have_text("Account")

    # Ordering while signed in is the ordinary checkout; the order is kept under the account.
    await page.goto("/")
    await add_item(page, "Cake", quantity=2)
    await page.goto("/checkout")
    await fill_contact(page, name="Grace Hopper")
    token = await place_order(page)
    placed = await api.get(f"/api/orders/{token}")
    assert placed.status_code == 200, placed.text
    number = placed.json()["number"]
    await move_order(api, number, "accepted")

    await page.locator("[data-account-link]").click()
    await expect(page).to_have_url(f"{live_server.url}/account")
    order = page.locator(".history-order")
    await expect(order).to_have_count(1)
    await expect(order.get_by_role("heading")).to_have_text(f"Order #{number}")
    await expect(order.locator("[data-order-status]")).to_have_text("Accepted by the kitchen")
    await expect(order.locator("[data-order-total]")).to_have_text("$8.80")  # 2 x $4 + 10% tax
    await expect(order).to_contain_text("2 \u00d7 Cake")
    await expect(order.get_by_role("link", name="Track this order")).to_have_attribute(
        "href", f"/orders/{token}"
    )
    await screenshot(page, "account-desktop")

    # Reorder: the cart (empty after the order) gets the Cake line back, and checkout shows it.
    await order.get_by_role("button", name="Reorder").click()
    await expect(page).to_have_url(f"{live_server.url}/checkout")
    summary = page.get_by_role("complementary")
    await expect(summary.locator(".cart-line")).to_have_count(1)
    await expect(summary.locator(".cart-line")).to_contain_text("Cake")
    await expect(summary.locator(".cart-line__qty")).to_have_text("Quantity 2")
    await expect(page.locator("[data-cart-count]")).to_have_text("(2)")

    # Signing out ends the session: the account page sends the customer to sign in.
    await page.goto("/account")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{live_server.url}/")
    await expect(page.locator("[data-account-link]")).to_have_text("Sign in")
    await page.goto("/account")
    await expect(page).to_have_url(f"{live_server.url}/account/signin?next=/account")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


async def test_reorder_leaves_out_what_is_no_longer_available(
    desktop: BrowserPage, shop: FixtureMenu, conn: Conn, live_server: LiveServer
) -> None:
    page = desktop.page
    await sign_up(page, unique_email())
    await page.goto("/")
    await add_item(page, "Cake")
    await add_item(page, "Soup")
    await page.goto("/checkout")
    await fill_contact(page)
    await place_order(page)

    await conn.execute("UPDATE item SET available = false WHERE id = %s", (shop.soup,))
    await conn.execute("SELECT pg_notify('menu_changed', '')")
    await wait_for_menu(live_server, msgspec.to_builtins(await menu_repo.fetch_menu(conn)))

    await page.goto("/account")
    await page.get_by_role("button", name="Reorder").click()
    notice = page.locator("[data-reorder-notice]")
    await expect(notice).to_contain_text("Not available any more, so left out: Soup.")
    await notice.get_by_role("link", name="Go to checkout").click()
    summary = page.get_by_role("complementary")
    await expect(summary.locator(".cart-line")).to_have_count(1)
    await expect(summary.locator(".cart-line")).to_contain_text("Cake")


async def test_sign_up_problems_are_shown_next_to_their_field(
    desktop: BrowserPage, api: httpx.AsyncClient, shop: FixtureMenu
) -> None:
    page = desktop.page
    email = unique_email()
    taken = await api.post(
        "/api/accounts", json={"email": email, "password": PASSWORD}, headers=CSRF
    )
    assert taken.status_code == 201, taken.text

    await page.goto("/account/signup")
    await page.get_by_label("Email").fill(unique_email())
    await page.get_by_label("Password").fill("short")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("[data-error-for=password]")).to_have_text(
        "Choose a password of at least 10 characters."
    )
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("[data-error-for=email]")).to_have_text(
        "There is already an account with this email. Sign in instead."
    )
    await expect(page.locator("[data-error-for=password]")).to_have_text("")
    await expect(page).to_have_url(re.compile(r"/account/signup$"))


async def test_sign_in_goes_back_to_a_local_next_only(
    desktop: BrowserPage, phone: BrowserPage, api: httpx.AsyncClient, live_server: LiveServer
) -> None:
    email = unique_email()
    created = await api.post(
        "/api/accounts", json={"email": email, "password": PASSWORD}, headers=CSRF
    )
    assert created.status_code == 201, created.text

    page = phone.page
    await page.goto("/account")
    await expect(page).to_have_url(f"{live_server.url}/account/signin?next=/account")
    await screenshot(page, "signin-phone")
    await page.get_by_label("Email").fill(email.upper())
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{live_server.url}/account")
    await expect(page.locator("[data-account-email]")).to_have_text(email)

    # A next pointing at another site is ignored: the customer lands on the account page.
    page = desktop.page
    await page.goto("/account/signin?next=//evil.example/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{live_server.url}/account")
    await page.goto("/account/signin?next=/checkout")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{live_server.url}/checkout")


async def test_a_customer_downloads_their_data_and_deletes_their_account(
    desktop: BrowserPage, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    page = desktop.page
    email = unique_email()
    await sign_up(page, email)
    await expect(page.get_by_role("link", name="Download my data")).to_have_attribute(
        "href", "/api/me/data"
    )
    form = page.locator("[data-delete-account]")
    await form.get_by_label("Your password").fill("not my password at all")
    await form.get_by_role("button", name="Delete my account").click()
    await expect(form.locator("[data-delete-error]")).to_have_text(
        "That is not your password; your account is unchanged."
    )
    await screenshot(page, "account-your-data", full_page=True)
    await form.get_by_label("Your password").fill(PASSWORD)
    await form.get_by_role("button", name="Delete my account").click()
    await expect(page).to_have_url(re.compile(r"/$"))
    signing_in = await api.post(
        "/api/session", json={"email": email, "password": PASSWORD}, headers=CSRF
    )
    assert signing_in.status_code == 401  # the account is gone


async def test_wrong_password_then_throttled(desktop: BrowserPage, api: httpx.AsyncClient) -> None:
    """Last in the file: it pauses sign-in from 127.0.0.1 for everyone (see the module note)."""
    email = unique_email()
    created = await api.post(
        "/api/accounts", json={"email": email, "password": PASSWORD}, headers=CSRF
    )
    assert created.status_code == 201, created.text

    page = desktop.page
    await page.goto("/account/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not the password")
    submit = page.get_by_role("button", name="Sign in")
    error = page.locator("[data-form-error]")
    await submit.click()
    await expect(error).to_have_text("Email or password is not right.")
    # Five wrong guesses for this email, then a pause (the per-email key: fresh, since the email
    # is new; the per-address key may already count earlier failures and pause sooner).
    for _ in range(5):
        await submit.click()
        await expect(submit).to_be_enabled()
        await expect(error).not_to_have_text("")
    await expect(error).to_have_text(re.compile(r"^Too many attempts, try again in \d+ seconds\.$"))
    await expect(page).to_have_url(re.compile(r"/account/signin$"))
