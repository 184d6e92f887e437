"""Idempotency keys are pruned after their retention; orders and recent keys are kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar import Litestar

from gourmet.db.types import Conn
from gourmet.ordering.checkout import retention
from gourmet.ordering.checkout.retention import KeyPruner
from gourmet.services import runtime_of
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio


async def keys(conn: Conn) -> set[str]:
    rows = await (await conn.execute("SELECT idempotency_key FROM checkout_request")).fetchall()
    return {row["idempotency_key"] for row in rows}


async def test_keys_past_their_retention_are_pruned_and_their_orders_kept(
    client: Client, app: Litestar, conn: Conn, menu: FixtureMenu, monkeypatch: pytest.MonkeyPatch
) -> None:
    placed = []
    for key in ("old-1", "old-2", "old-3", "fresh"):
        response = await client.post(
            "/api/orders",
            json=checkout_body([{"item_id": menu.cake}]),
            headers={"Idempotency-Key": key},
        )
        assert response.status_code == 201
        placed.append(response.json()["token"])
    # Three keys were claimed three days ago, one just now; and one old claim has no order.
    await conn.execute(
        "UPDATE checkout_request SET created_at = now() - interval '3 days'"
        " WHERE idempotency_key LIKE 'old-%'"
    )
    await conn.execute(
        "INSERT INTO checkout_request (idempotency_key, fingerprint, created_at)"
        " VALUES ('old-orphan', 'x', now() - interval '50 hours')"
    )
    monkeypatch.setattr(retention, "PRUNE_BATCH", 2)  # several batches, one short
    pruner = KeyPruner(runtime_of(app).services.pool, retention=timedelta(hours=48), every_s=60)

    assert await pruner.prune() == 4
    assert await keys(conn) == {"fresh"}
    orders = await (await conn.execute("SELECT token FROM orders")).fetchall()
    assert {row["token"] for row in orders} == set(placed)
    assert await pruner.prune() == 0  # nothing left to prune


async def test_a_key_within_its_retention_still_replays_its_order(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    headers = {"Idempotency-Key": "retry-me"}
    first = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}]), headers=headers
    )
    pruner = KeyPruner(runtime_of(app).services.pool, retention=timedelta(hours=48), every_s=60)
    assert await pruner.prune() == 0
    again = await client.post(
        "/api/orders", json=checkout_body([{"item_id": menu.cake}]), headers=headers
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["token"] == first.json()["token"]


async def test_the_card_providers_old_events_are_pruned_too(
    client: Client, app: Litestar, conn: Conn, menu: FixtureMenu
) -> None:
    await conn.execute(
        "INSERT INTO stripe_event (id, type, received_at) VALUES"
        " ('evt_old', 'payment_intent.succeeded', now() - interval '31 days'),"
        " ('evt_recent', 'payment_intent.succeeded', now() - interval '3 days')"
    )
    pruner = KeyPruner(runtime_of(app).services.pool, retention=timedelta(hours=48), every_s=60)
    await pruner.prune()
    rows = await (await conn.execute("SELECT id FROM stripe_event")).fetchall()
    assert [row["id"] for row in rows] == ["evt_recent"]
