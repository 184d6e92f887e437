"""Checkout by card against the real sandbox provider: no connection held while it works,
no double charge, and a breaker that stops calling a provider that keeps failing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar

from gourmet.app import asgi_stack, create_app
from gourmet.config import DatabaseSettings, PaymentsSettings, SecuritySettings, Settings
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.payments.helpers import Sandbox
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio


@contextlib.asynccontextmanager
async def gourmet(
    database_url: str, tmp_path: Path, sandbox: Sandbox, **changes: dict[str, Any]
) -> AsyncIterator[tuple[Client, Litestar]]:
    """Gourmet with the sandbox provider; ``changes`` change settings by group."""
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=6),
        security=SecuritySettings(staff_token=STAFF_TOKEN, checkouts_per_client=0),
        payments=PaymentsSettings(url=sandbox.url),
    ).changed(**changes)
    app = create_app(settings)
    async with serve(asgi_stack(app)) as client:
        yield client, app


def by_card(menu: FixtureMenu, card: str = "tok_visa") -> dict[str, Any]:
    body = checkout_body([{"item_id": menu.cake, "quantity": 2}])
    return {**body, "payment": "card", "card_token": card}


async def test_card_checkout_is_charged_once_and_goes_to_the_kitchen(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox) as (client, _):
        headers = {"Idempotency-Key": "card-1"}
        response = await client.post("/api/orders", json=by_card(menu), headers=headers)
        assert response.status_code == 201, response.text
        order = response.json()
        assert (order["status"], order["payment_status"]) == ("received", "paid")
        assert [h["status"] for h in order["history"]] == ["awaiting_payment", "received"]
        again = await client.post("/api/orders", json=by_card(menu), headers=headers)
        assert again.status_code == 200
        assert again.json()["token"] == order["token"]
        charges = await sandbox.charges()
        assert [c["idempotency_key"] for c in charges] == [f"{order['token']}-1"]
        assert charges[0]["request"]["amount_cents"] == order["totals"]["total_cents"]
        kitchen = (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json()
        assert [o["token"] for o in kitchen] == [order["token"]]


async def test_declined_card_keeps_the_order_until_paid_another_way(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox) as (client, _):
        response = await client.post("/api/orders", json=by_card(menu, "tok_decline"))
        assert response.status_code == 402
        problem = response.json()
        assert problem["type"] == "/problems/payment-declined"
        assert problem["choices"] == ["another_card", "pay_at_pickup"]
        token = problem["order_token"]
        waiting = (await client.get(f"/api/orders/{token}")).json()
        assert (waiting["status"], waiting["payment_status"]) == ("awaiting_payment", "declined")
        assert (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json() == []
        staff_shortcut = await client.post(
            f"/api/staff/orders/{waiting['number']}/status",
            json={"status": "received"},
            headers=STAFF_HEADERS,
        )
        assert staff_shortcut.status_code == 409  # only a payment releases it

        paid = await client.post(f"/api/orders/{token}/payment", json={"card_token": "tok_visa"})
        assert paid.status_code == 200, paid.text
        assert (paid.json()["status"], paid.json()["payment_status"]) == ("received", "paid")
        keys = [c["idempotency_key"] for c in await sandbox.charges()]
        assert keys == [f"{token}-1", f"{token}-2"]  # a new attempt after a final decline
        assert (
            await client.post(f"/api/orders/{token}/payment", json={"card_token": "tok_visa"})
        ).status_code == 409


async def test_slow_provider_holds_no_connection_and_status_keeps_working(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, payments={"timeout_s": 5.0}) as (
        client,
        app,
    ):
        placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        token = placed.json()["token"]
        await sandbox.control(latency_ms=5000)
        checkouts = [
            asyncio.create_task(client.post("/api/orders", json=by_card(menu))) for _ in range(4)
        ]
        await sandbox.wait_for_in_flight(4)
        # Four customers wait on the provider, and the pool lends no connection to any of them.
        assert runtime_of(app).services.pool.stats()["in_use"] == 0
        assert (await client.get("/api/menu")).status_code == 200
        assert (await client.get(f"/api/orders/{token}")).status_code == 200
        assert (
            await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        ).status_code == 201
        answers = await asyncio.gather(*checkouts)
        # The request deadline (3 s) ends the wait: the orders are saved, awaiting payment.
        assert {r.status_code for r in answers} == {503}
        problem = answers[0].json()
        assert problem["type"] == "/problems/payments-unavailable"
        assert problem["choices"] == ["retry", "pay_at_pickup"]
        switched = await client.post(f"/api/orders/{problem['order_token']}/pay-at-pickup")
        assert switched.status_code == 200
        assert (switched.json()["status"], switched.json()["payment"]) == (
            "received",
            "pay_at_pickup",
        )


async def test_breaker_opens_after_repeated_failures(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    await sandbox.control(failure_rate=1.0, failure_status=503)
    breaking = {"breaker_failures": 3}
    async with gourmet(database_url, tmp_path, sandbox, payments=breaking) as (client, _app):
        answers = [await client.post("/api/orders", json=by_card(menu)) for _ in range(6)]
        assert {r.status_code for r in answers} == {503}
        assert all(r.json()["type"] == "/problems/payments-unavailable" for r in answers)
        assert await sandbox.attempts() == 3  # after three failures, no more calls
        assert await sandbox.charges() == []
