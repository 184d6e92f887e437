"""Another site's page, in real Chromium, tries to act with a signed-in manager's browser: a
form that posts JSON as text/plain, and a fetch with credentials and Gourmet's custom header.
Nothing changes: the browser sends no cookie with the form (SameSite), the fetch is stopped at
its preflight (Gourmet grants no cross-origin request), and the server refuses what arrives."""

from __future__ import annotations

import json

import httpx
import pytest
from playwright.async_api import Browser, Route, expect

from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.web.actions import sign_in_as_staff
from tests.web.conftest import DESKTOP, LiveServer, open_page

pytestmark = pytest.mark.anyio
EVIL = "http://evil.test"


def attack_page(target: str) -> str:
    body = json.dumps({"paused": True, "message": "pwned"})
    return f"""<!doctype html><html><body>
<form id="f" method="post" action="{target}/api/manage/pause" enctype="text/plain">
  <input name='{body[:-1]}, "x": "' value='"}}'>
</form>
<script>
window.fetchResult = "pending";
fetch("{target}/api/manage/pause", {{
  method: "POST", credentials: "include",
  headers: {{"Content-Type": "application/json", "X-Requested-With": "gourmet"}},
  body: JSON.stringify({{paused: true, message: "pwned by fetch"}}),
}}).then(r => window.fetchResult = "answered " + r.status)
  .catch(e => window.fetchResult = "blocked");
</script></body></html>"""


async def test_another_site_cannot_act_as_a_signed_in_manager(
    browser: Browser, live_server: LiveServer, shop: FixtureMenu, api: httpx.AsyncClient
) -> None:
    victim = await open_page(browser, live_server, DESKTOP)
    page = victim.page
    try:
        await sign_in_as_staff(page, live_server.url, "/manage")

        async def serve_attack(route: Route) -> None:
            await route.fulfill(content_type="text/html", body=attack_page(live_server.url))

        await page.route(f"{EVIL}/**", serve_attack)
        await page.goto(f"{EVIL}/")
        await page.wait_for_function("window.fetchResult !== 'pending'")
        assert await page.evaluate("window.fetchResult") == "blocked"
        async with page.expect_navigation():
            await page.evaluate("document.getElementById('f').submit()")
        assert page.url.startswith(live_server.url)  # the form went to Gourmet...
        # ...without the session cookie (SameSite): an anonymous request, refused.
        await expect(page.locator("body")).to_contain_text('"status":401')
    finally:
        await page.context.close()
    restaurant = (await api.get("/api/manage/restaurant", headers=STAFF_HEADERS)).json()
    assert restaurant["ordering_paused"] is False
    assert restaurant["pause_message"] == ""
