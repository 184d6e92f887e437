"""The ops page lists the outbox's failed jobs for staff, as text (an error message is whatever a
provider or a mail server said)."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import expect

from gourmet.db.types import Conn
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.web.actions import order_by_api
from tests.web.conftest import BrowserPage, LiveServer

pytestmark = pytest.mark.anyio

ERROR = "provider refused: <img src=x data-pwn onerror=pwned=1> amount_exceeds_charge"


async def test_the_ops_page_lists_failed_jobs_as_text(
    desktop: BrowserPage,
    shop: FixtureMenu,
    api: httpx.AsyncClient,
    live_server: LiveServer,
    conn: Conn,
) -> None:
    page = desktop.page
    await page.goto("/ops/login?next=/ops")
    await page.get_by_label("Staff token").fill(STAFF_TOKEN)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{live_server.url}/ops")
    await expect(page.locator("#failed-summary")).to_have_text("None.")

    order = await order_by_api(api, [{"item_id": shop.cake}])
    await conn.execute(
        "INSERT INTO outbox (kind, event_key, order_id, payload, state, attempts, last_error,"
        " done_at) VALUES ('refund', 'refund-ch_test', %s, '{}', 'failed', 3, %s, now())",
        (order["number"], ERROR),
    )
    await page.reload()
    await expect(page.locator("#failed-summary")).to_have_text("1 failed job(s):")
    cells = page.locator("#failed-jobs tbody tr").first.locator("td")
    await expect(cells).to_have_count(5)
    await expect(cells.nth(0)).to_have_text("refund")
    await expect(cells.nth(1)).to_have_text(str(order["number"]))
    await expect(cells.nth(2)).to_have_text("3")
    await expect(cells.nth(3)).to_have_text(ERROR)
    await expect(page.locator("[data-pwn]")).to_have_count(0)
