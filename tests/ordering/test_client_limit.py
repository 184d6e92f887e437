"""Checkout attempts per client, counted in PostgreSQL: a script cannot fill the day's slots
from one address, and a customer elsewhere, or signed in, is not held to another's count."""

from __future__ import annotations

import uuid

import pytest

from gourmet.app import create_app
from gourmet.config import Settings
from gourmet.db.types import Conn
from tests.accounts.helpers import CSRF, sign_up
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio

LIMIT = 3


async def order(client: Client, menu: FixtureMenu, address: str, **headers: str) -> int:
    line = {"item_id": menu.cake, "quantity": 1, "option_ids": []}
    response = await client.post(
        "/api/orders",
        json=checkout_body([line]),
        headers={"Idempotency-Key": uuid.uuid4().hex, "X-Forwarded-For": address, **headers},
    )
    if response.status_code == 429:
        assert response.json()["type"] == "/problems/too-many-attempts"
        assert int(response.headers["Retry-After"]) > 0
    return response.status_code


async def test_checkouts_per_address_and_per_account(
    settings: Settings, menu: FixtureMenu, conn: Conn
) -> None:
    limited = settings.changed(
        security={"checkouts_per_client": LIMIT}, server={"trusted_proxies": ["127.0.0.1"]}
    )
    async with serve(create_app(limited)) as client:
        script = [await order(client, menu, "203.0.113.1") for _ in range(LIMIT + 2)]
        neighbour = await order(client, menu, "203.0.113.2")
        ada = await sign_up(client, "ada@example.com")
        # Signed in, counted per account: the script's address does not hold Ada back.
        signed_in = [
            await order(client, menu, "203.0.113.1", **ada, **CSRF) for _ in range(LIMIT + 1)
        ]
    assert script == [201] * LIMIT + [429, 429]
    assert neighbour == 201
    assert signed_in == [201] * LIMIT + [429]
    placed = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert placed is not None
    assert placed["n"] == 2 * LIMIT + 1  # nothing placed when refused
