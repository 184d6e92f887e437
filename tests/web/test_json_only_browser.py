"""Finding 5 of 2026-12-07, in real Chromium: a page on another site placed a guest order with its
visitor's browser, by a no-cors fetch of a text/plain body (no preflight needed). Gourmet now
takes JSON only on its JSON routes, so the same page places nothing."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser

from gourmet.db.types import Conn
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.web.conftest import DESKTOP, LiveServer, open_page

pytestmark = pytest.mark.anyio


def attack_page(target: str, order: dict[str, object]) -> str:
    return f"""<!doctype html><html><body><script>
window.result = "pending";
fetch("{target}/api/orders", {{
  method: "POST", mode: "no-cors",
  headers: {{"Content-Type": "text/plain"}},
  body: {json.dumps(json.dumps(order))},
}}).then(() => window.result = "sent").catch(e => window.result = "failed: " + e);
</script></body></html>"""


@contextlib.contextmanager
def another_site(page: str) -> Iterator[str]:
    """``page`` served at http://localhost:<port>/, another site than Gourmet's 127.0.0.1. On
    this machine, as the probe's was: Chromium asks before a page from a public address reaches
    a loopback one (Local Network Access), which a deployed Gourmet is not."""
    body = page.encode()

    class Attack(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attack)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def order_count(conn: Conn) -> int:
    row = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert row is not None
    return int(row["n"])


async def test_another_sites_no_cors_text_plain_fetch_places_no_order(
    browser: Browser, live_server: LiveServer, shop: FixtureMenu, conn: Conn
) -> None:
    before = await order_count(conn)
    visitor = await open_page(browser, live_server, DESKTOP)
    page = visitor.page
    order = checkout_body([{"item_id": shop.cake, "quantity": "3"}])
    try:
        with another_site(attack_page(live_server.url, order)) as evil:
            await page.goto(evil)
            # An opaque answer resolves the fetch once the server has answered the request.
            await page.wait_for_function("window.result !== 'pending'")
            assert await page.evaluate("window.result") == "sent"
    finally:
        await page.context.close()
    assert await order_count(conn) == before
