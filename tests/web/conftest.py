"""Browser tests: the real app served by granian in a subprocess, driven by Debian's Chromium
through Playwright, on the tests' PostgreSQL.

Chromium is a system tool: where /usr/bin/chromium is missing the browser tests are skipped with
the reason, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import httpx
import msgspec
import pytest
from playwright.async_api import (
    Browser,
    ConsoleMessage,
    Dialog,
    Page,
    Playwright,
    ViewportSize,
    async_playwright,
    expect,
)

from gourmet.db.types import Conn
from gourmet.menu import repository as menu_repo
from tests.conftest import ROOT, STAFF_HEADERS, STAFF_TOKEN, FixtureMenu, load_fixture_menu
from tests.processes import free_port, start, stop
from tests.web.actions import sign_in_as_staff

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_DEADLINE_S = 30.0
MENU_RELOAD_DEADLINE_S = 10.0
TIMEZONE = "America/New_York"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "docs" / "screenshots"

# Live updates and retries take a few seconds by design (Retry-After, 5 s polling).
expect.set_options(timeout=15_000)


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path


@dataclass
class BrowserPage:
    """A page plus what the browser reported: uncaught errors and CSP refusals must stay empty."""

    page: Page
    problems: list[str] = field(default_factory=list)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found (Debian package 'chromium'): browser tests need it"
    print(reason, file=sys.stderr)
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def serve(
    database_url: str, data_dir: Path, payments_url: str, settings: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], LiveServer]:
    """Start Gourmet as it runs in production: granian, the server factory, settings from env
    (``settings`` adds or overrides GOURMET_ variables)."""
    port = free_port()
    log = data_dir / "server.log"
    env = {
        **os.environ,
        "GOURMET_DATABASE__URL": database_url,
        "GOURMET_SECURITY__STAFF_TOKEN": STAFF_TOKEN,
        "GOURMET_PAYMENTS__URL": payments_url,
        "GOURMET_DATA_DIR": str(data_dir),
        "GOURMET_ADMISSION__LIMITER_INITIAL": "100",
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",  # every browser here comes from 127.0.0.1
        "GOURMET_RESTAURANT__TIMEZONE": TIMEZONE,
        **(settings or {}),
    }
    command = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "gourmet.app:create_server_app",
    ]
    server = LiveServer(f"http://127.0.0.1:{port}", log)
    return start(command, env, log, f"{server.url}/healthz"), server


@contextlib.contextmanager
def server_with(
    database_url: str, data_dir: Path, settings: dict[str, str]
) -> Iterator[LiveServer]:
    """A server of its own (cards off) with these GOURMET_ settings, for one test module."""
    process, server = serve(database_url, data_dir, "", settings)
    try:
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="session")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Gourmet with card payments off."""
    process, server = serve(database_url, tmp_path_factory.mktemp("web-server"), payments_url="")
    try:
        yield server
    finally:
        stop(process)


@pytest.fixture(scope="session")
def card_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Gourmet taking cards through the sandbox provider (``tok_visa`` approves,
    ``tok_decline`` declines), each in its own process."""
    data_dir = tmp_path_factory.mktemp("card-server")
    port = free_port()
    sandbox = start(
        [sys.executable, "-m", "gourmet.payments.sandbox", "--port", str(port)],
        dict(os.environ),
        data_dir / "sandbox.log",
        f"http://127.0.0.1:{port}/health",
    )
    try:
        process, server = serve(database_url, data_dir, payments_url=f"http://127.0.0.1:{port}")
        try:
            yield server
        finally:
            stop(process)
    finally:
        stop(sandbox)


@pytest.fixture(scope="session")
def line_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Gourmet placing one order at a time (a pool of one, a limit of one), whose waiting room
    holds an attempt for 3 s (long enough for the page to say it is waiting in line); a
    checkout blocked on a lock keeps its place busy for up to 10 s instead of timing out (its
    deadline and the database's bounds are 10 s, within a checkout budget of 20 s)."""
    settings = {
        "GOURMET_DATABASE__POOL_MAX_SIZE": "1",
        "GOURMET_ADMISSION__LIMITER_INITIAL": "1",
        "GOURMET_ADMISSION__LIMITER_MIN": "1",
        "GOURMET_ADMISSION__LIMITER_MAX": "1",
        "GOURMET_ADMISSION__WAITING_ROOM_HOLD_S": "3",
        "GOURMET_ADMISSION__DEADLINE_S": "10",
        "GOURMET_ADMISSION__CHECKOUT_BUDGET_S": "20",
        "GOURMET_DATABASE__LOCK_TIMEOUT_MS": "10000",
        "GOURMET_DATABASE__STATEMENT_TIMEOUT_MS": "10000",
    }
    data_dir = tmp_path_factory.mktemp("line-server")
    process, server = serve(database_url, data_dir, payments_url="", settings=settings)
    try:
        yield server
    finally:
        stop(process)


async def wait_for_menu(server: LiveServer, expected: object) -> None:
    """Poll the server's cached menu until it is ``expected`` (reloads go through NOTIFY)."""
    async with httpx.AsyncClient(base_url=server.url) as http:
        deadline = time.monotonic() + MENU_RELOAD_DEADLINE_S
        while (served := (await http.get("/api/menu")).json()) != expected:
            assert time.monotonic() < deadline, f"menu not reloaded: {served}"
            await anyio.sleep(0.05)  # polling interval; the deadline above bounds the wait


@pytest.fixture
async def shop(live_server: LiveServer, conn: Conn) -> FixtureMenu:
    """The fixture menu, fresh for each test, and the server's menu cache showing it."""
    menu = await load_fixture_menu(conn)
    await conn.execute("SELECT pg_notify('menu_changed', '')")
    # The rules were set again too: the server's slot lists are read again.
    await conn.execute("SELECT pg_notify('rules_changed', '')")
    await wait_for_menu(live_server, msgspec.to_builtins(await menu_repo.fetch_menu(conn)))
    return menu


@pytest.fixture
async def card_shop(card_server: LiveServer, shop: FixtureMenu, conn: Conn) -> FixtureMenu:
    await wait_for_menu(card_server, msgspec.to_builtins(await menu_repo.fetch_menu(conn)))
    return shop


@pytest.fixture
async def api(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10.0) as http:
        yield http


@pytest.fixture(scope="session")
async def playwright() -> AsyncIterator[Playwright]:
    require_chromium()
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright: Playwright) -> AsyncIterator[Browser]:
    chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    await chromium.close()


async def open_page(browser: Browser, server: LiveServer, viewport: ViewportSize) -> BrowserPage:
    context = await browser.new_context(base_url=server.url, viewport=viewport)
    page = await context.new_page()
    watched = BrowserPage(page)

    def on_console(message: ConsoleMessage) -> None:
        # CSP refusals ("Refused to execute inline script ...") are console errors; failed
        # fetches (a 409 the page handles) are expected and not reported here.
        if message.type == "error" and "Refused to" in message.text:
            watched.problems.append(message.text)

    async def on_dialog(dialog: Dialog) -> None:  # alert() from injected markup, for one
        watched.problems.append(f"dialog opened: {dialog.message}")
        await dialog.dismiss()

    page.on("console", on_console)
    page.on("pageerror", lambda error: watched.problems.append(f"page error: {error}"))
    page.on("dialog", on_dialog)
    return watched


@contextlib.asynccontextmanager
async def staff_page(
    browser: Browser, server: LiveServer, path: str, viewport: ViewportSize = DESKTOP
) -> AsyncIterator[Page]:
    """A browser of its own, signed in with the staff token on ``path``; closed on leaving,
    and no page error or Content-Security-Policy refusal may have happened meanwhile."""
    opened = await open_page(browser, server, viewport)
    try:
        await sign_in_as_staff(opened.page, server.url, path)
        yield opened.page
    finally:
        await opened.page.context.close()
    assert opened.problems == []


@contextlib.asynccontextmanager
async def watched_page(
    browser: Browser, server: LiveServer, viewport: ViewportSize
) -> AsyncIterator[BrowserPage]:
    watched = await open_page(browser, server, viewport)
    yield watched
    await watched.page.context.close()
    assert watched.problems == []


@pytest.fixture
async def desktop(
    browser: Browser, live_server: LiveServer, shop: FixtureMenu
) -> AsyncIterator[BrowserPage]:
    async with watched_page(browser, live_server, DESKTOP) as watched:
        yield watched


@pytest.fixture
async def phone(
    browser: Browser, live_server: LiveServer, shop: FixtureMenu
) -> AsyncIterator[BrowserPage]:
    async with watched_page(browser, live_server, PHONE) as watched:
        yield watched


@pytest.fixture
async def card_desktop(
    browser: Browser, card_server: LiveServer, card_shop: FixtureMenu
) -> AsyncIterator[BrowserPage]:
    """A desktop page on the server that takes cards."""
    async with watched_page(browser, card_server, DESKTOP) as watched:
        yield watched


async def screenshot(page: Page, name: str, *, full_page: bool = False) -> None:
    """docs/screenshots/<name>.png, the pages as customers see them (kept with the docs)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(
        path=SCREENSHOTS / f"{name}.png", animations="disabled", full_page=full_page
    )


async def move_order(api: httpx.AsyncClient, number: int, status: str, reason: str = "") -> None:
    body = {"status": status, **({"reason": reason} if reason else {})}
    response = await api.post(
        f"/api/staff/orders/{number}/status", json=body, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text
