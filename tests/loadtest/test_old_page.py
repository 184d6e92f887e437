"""The old platform's checkout page against the old platform (the ``incident`` profile, a real
``gourmet serve``): a checkout that is slow to place (the orders table held by another session,
as a long query holds it) keeps spinning, its customer reloads and sends the order again with no
Idempotency-Key, and the server, which never learns that the first request's customer has gone,
places every one of them: the duplicates November's customers made. Gourmet's page on the
hardened server, the same wait, places one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from gourmet_tools.checkout_page import CheckoutPage, OldCheckoutPage
from gourmet_tools.loadtest.customers import Connections, Customer, Page, settled_orders, shop
from gourmet_tools.loadtest.local import local_server
from gourmet_tools.loadtest.menu_orders import checkout_bodies

from tests.loadtest.helpers import own_database
from tests.processes import free_port

SPINNER_S = 1.0  # the old page's 15 s, shortened
LOCKED_S = 3.5  # the orders table is held this long: three reloads' worth


@contextlib.contextmanager
def orders_held(url: str, seconds: float) -> Iterator[None]:
    """Another session holds the orders table for ``seconds`` (from a thread)."""
    locked = threading.Event()

    def hold() -> None:
        with psycopg.connect(url) as conn, conn.transaction():
            conn.execute("LOCK TABLE orders IN EXCLUSIVE MODE")
            locked.set()
            threading.Event().wait(seconds)

    holder = threading.Thread(target=hold)
    holder.start()
    locked.wait(10)
    try:
        yield
    finally:
        holder.join()


@pytest.mark.parametrize(("profile", "orders"), [("incident", 4), ("hardened", 1)])
def test_a_reload_on_the_old_page_places_the_order_again(
    admin_url: str, tmp_path: Path, profile: str, orders: int
) -> None:
    url = own_database(admin_url, f"gourmet_old_page_{profile}")
    env = {
        "GOURMET_DATABASE__URL": url,
        "GOURMET_PROFILE": profile,
        "GOURMET_DATA_DIR": str(tmp_path),
        "GOURMET_SERVER__WORKERS": "1",
        "GOURMET_DATABASE__POOL_MAX_SIZE": "8",
        # The hardened server waits out the lock as long as its customer does.
        "GOURMET_DATABASE__LOCK_TIMEOUT_MS": "20000",
        "GOURMET_DATABASE__STATEMENT_TIMEOUT_MS": "20000",
        "GOURMET_ADMISSION__DEADLINE_S": "10",
    }
    port = free_port()
    with local_server(env, port, tmp_path / "server.log") as base:
        with httpx.Client(base_url=base, timeout=10) as client:
            body = dict(checkout_bodies(client)[0])
        body["customer"] = {"name": f"old-page-{profile}-0", "phone": "555-0100"}
        customer = Customer(0, 0.0, json.dumps(body).encode(), f"old-page-{profile}")

        def page_of(now_s: float, who: Customer) -> Page:
            if profile == "incident":
                return OldCheckoutPage(now_s, spinner_s=SPINNER_S, again_after_s=0.1)
            return CheckoutPage(now_s, who.key)

        async def checkout() -> None:
            connections = Connections("127.0.0.1", port)
            try:
                loop = asyncio.get_running_loop()
                await shop(connections, customer, loop.time(), 30.0, page_of)
            finally:
                connections.close()

        with orders_held(url, LOCKED_S):
            asyncio.run(checkout())
        placed = settled_orders(url, f"old-page-{profile}", quiet_s=1.0)
    assert customer.token is not None  # the customer got an order in the end
    assert placed == orders
    assert customer.reloads == orders - 1
