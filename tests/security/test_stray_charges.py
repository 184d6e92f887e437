"""Finding 1 of 2026-12-07: a customer charged, then sent to pay at pickup. Every approved charge
an order does not use goes back by itself, and leaving ``awaiting_payment`` settles the attempt
still out at the provider first. Against the real sandbox provider and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from gourmet.db.types import Conn
from gourmet.payments.client import HttpPaymentProvider
from gourmet.payments.provider import PaymentRequestRejected, ProviderUnavailable
from tests.conftest import FixtureMenu
from tests.payments.helpers import Sandbox, pay
from tests.payments.test_checkout_card import by_card, gourmet
from tests.payments.test_refunds import FAST_OUTBOX, eventually, order_of, refunds_at
from tests.serving import Client

pytestmark = pytest.mark.anyio

# The probe's provider: slower (1.5 s) than Gourmet waits for a charge (1 s).
SLOW_MS = 1500
WAIT = {"payments": {"timeout_s": 1.0}, **FAST_OUTBOX}


async def timed_out_checkout(client: Client, menu: FixtureMenu, sandbox: Sandbox) -> str:
    """A card checkout whose charge outlives Gourmet's wait: 503 with the choices, the order
    saved. Returns its token; the charge is still in progress at the provider."""
    await sandbox.control(latency_ms=SLOW_MS)
    answer = await client.post("/api/orders", json=by_card(menu))
    assert answer.status_code == 503, answer.text
    problem = answer.json()
    assert problem["choices"] == ["retry", "pay_at_pickup"]
    token: str = problem["order_token"]
    return token


async def charge_of(sandbox: Sandbox, token: str) -> dict[str, Any]:
    async def landed() -> bool:
        return len(await sandbox.charges(f"{token}-1")) == 1

    await eventually(landed)
    charge: dict[str, Any] = (await sandbox.charges(f"{token}-1"))[0]
    assert charge["status"] == "approved"
    return charge


async def test_a_charge_that_lands_after_the_switch_to_pay_at_pickup_is_given_back(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **WAIT) as (client, _):
        token = await timed_out_checkout(client, menu, sandbox)
        # The provider still cannot answer in time: the customer is not kept waiting for it.
        switched = await client.post(f"/api/orders/{token}/pay-at-pickup")
        assert switched.status_code == 200, switched.text
        assert (switched.json()["payment"], switched.json()["payment_status"]) == (
            "pay_at_pickup",
            "not_required",
        )
        charge = await charge_of(sandbox, token)  # approved meanwhile, as in the probe
        await sandbox.control(latency_ms=0)

        async def given_back() -> bool:
            return [r["charge_id"] for r in await refunds_at(sandbox)] == [charge["id"]]

        await eventually(given_back)

        async def noted() -> bool:  # the history is written once the provider has answered
            reason = (await order_of(client, token))["history"][-1]["reason"]
            return "a card charge this order did not need" in (reason or "")

        await eventually(noted)
        seen = await order_of(client, token)
        # Still an order to pay at the counter, and its history says what happened.
        assert (seen["payment"], seen["payment_status"]) == ("pay_at_pickup", "not_required")


async def test_switching_after_the_charge_went_through_keeps_it_as_the_payment(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox
) -> None:
    async with gourmet(database_url, tmp_path, sandbox, **WAIT) as (client, _):
        token = await timed_out_checkout(client, menu, sandbox)
        charge = await charge_of(sandbox, token)
        await sandbox.control(latency_ms=0)
        switched = await client.post(f"/api/orders/{token}/pay-at-pickup")
        assert switched.status_code == 200, switched.text
        # Settled first: the card was charged, so nothing is owed at the counter.
        assert (switched.json()["payment"], switched.json()["payment_status"]) == (
            "card",
            "paid",
        )
        assert switched.json()["status"] == "received"
        assert await refunds_at(sandbox) == []
        assert [c["id"] for c in await sandbox.charges()] == [charge["id"]]


async def test_a_charge_approved_for_an_order_that_expired_unpaid_is_given_back(
    menu: FixtureMenu, database_url: str, tmp_path: Path, sandbox: Sandbox, conn: Conn
) -> None:
    """The customer leaves after the timeout; the charge goes through; the order expires."""
    async with gourmet(database_url, tmp_path, sandbox, **WAIT) as (client, _):
        token = await timed_out_checkout(client, menu, sandbox)
        charge = await charge_of(sandbox, token)
        await sandbox.control(latency_ms=0)
        await conn.execute(
            "UPDATE orders SET created_at = now() - interval '16 minutes' WHERE token = %s",
            [token],
        )

        async def refunded() -> bool:
            return bool((await order_of(client, token))["payment_status"] == "refunded")

        await eventually(refunded)
        seen = await order_of(client, token)
        assert seen["status"] == "cancelled"
        assert seen["refunded_cents"] == charge["request"]["amount_cents"]
        assert [r["charge_id"] for r in await refunds_at(sandbox)] == [charge["id"]]


async def test_a_settled_attempt_can_charge_no_more(
    provider: HttpPaymentProvider, sandbox: Sandbox
) -> None:
    """The provider's side of settling: in progress is 'ask later', a closed key charges
    nothing afterwards, and a charge already made is reported as it is."""
    await sandbox.control(latency_ms=500)
    charging = asyncio.create_task(pay(provider, "order-a-1"))
    await sandbox.wait_for_in_flight(1)
    with pytest.raises(ProviderUnavailable):
        await provider.settle_attempt(idempotency_key="order-a-1")
    made = await charging
    await sandbox.control(latency_ms=0)
    settled = await provider.settle_attempt(idempotency_key="order-a-1")
    assert settled == made

    assert await provider.settle_attempt(idempotency_key="order-b-1") is None
    with pytest.raises(PaymentRequestRejected):
        await pay(provider, "order-b-1")
    assert await sandbox.charges("order-b-1") == []
