"""A forgotten password in real Chromium against a real server with a real SMTP sink: "Forgot
your password?" on the sign-in page, the link from the email, a new password, signed in."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from gourmet.notify import sink
from tests.accounts.helpers import PASSWORD
from tests.conftest import FixtureMenu
from tests.ordering.helpers import text_of
from tests.polling import wait_for
from tests.processes import free_port
from tests.web.conftest import DESKTOP, LiveServer, open_page, screenshot, server_with

pytestmark = pytest.mark.anyio

LINK = re.compile(r"(/account/reset#token=[\w-]+)")


@pytest.fixture(scope="module")
def mail_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    folder, port = tmp_path_factory.mktemp("reset-mail"), free_port()
    controller = sink.start(folder, port=port, say=False)
    try:
        yield folder, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def mailing_server(
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    mail_folder: tuple[Path, int],
) -> Iterator[LiveServer]:
    settings = {
        "GOURMET_NOTIFICATIONS__SMTP_URL": f"smtp://127.0.0.1:{mail_folder[1]}",
        "GOURMET_NOTIFICATIONS__OUTBOX_EVERY_S": "0.2",
    }
    with server_with(database_url, tmp_path_factory.mktemp("resetting"), settings) as server:
        yield server


async def test_a_customer_who_forgot_their_password_chooses_a_new_one(
    browser: Browser,
    shop: FixtureMenu,
    mailing_server: LiveServer,
    mail_folder: tuple[Path, int],
) -> None:
    opened = await open_page(browser, mailing_server, DESKTOP)
    page = opened.page
    try:
        await page.goto("/account/signup")
        await page.get_by_label("Email").fill("grace@example.com")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Create account").click()
        await expect(page).to_have_url(f"{mailing_server.url}/account")
        await page.context.clear_cookies()
        await page.goto("/account/signin")
        await page.get_by_role("link", name="Forgot your password?").click()
        await page.get_by_label("Email").fill("grace@example.com")
        await page.get_by_role("button", name="Email me a link").click()
        await expect(page.locator("[data-told]")).to_contain_text("If an account uses this address")
        await screenshot(page, "account-forgot")

        async def link() -> list[str]:
            return [
                m for mail in sink.read_folder(mail_folder[0]) for m in LINK.findall(text_of(mail))
            ]

        (path,) = await wait_for(link, lambda found: len(found) == 1, timeout_s=15)
        await page.goto(path)
        await page.get_by_label("New password").fill("short")
        await page.get_by_role("button", name="Save and sign in").click()
        await expect(page.locator("[data-form-error]")).to_have_text(
            "Choose a password of at least 10 characters."
        )
        await screenshot(page, "account-reset")
        await page.get_by_label("New password").fill("a much better password")
        await page.get_by_role("button", name="Save and sign in").click()
        await expect(page).to_have_url(f"{mailing_server.url}/account")
    finally:
        await page.context.close()
    assert opened.problems == []
