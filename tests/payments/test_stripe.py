"""Card payments through Stripe: the real adapter (Stripe's own library) against a local server
that answers Stripe's API, and webhook events signed exactly as Stripe signs them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from pydantic import SecretStr
from typer.testing import CliRunner

from gourmet.app import asgi_stack, create_app
from gourmet.cli import app as cli
from gourmet.config import DatabaseSettings, PaymentsSettings, SecuritySettings, Settings
from gourmet.db.types import Conn
from tests.conftest import STAFF_HEADERS, STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.payments.stripe_account import DECLINED, sign
from tests.payments.stripe_standin import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeStandIn,
)
from tests.payments.test_refunds import FAST_OUTBOX, eventually, order_of
from tests.processes import free_port
from tests.serving import Client, serve

pytestmark = pytest.mark.anyio

WEBHOOK = "/api/payments/stripe/webhook"


def stripe_settings(api_url: str) -> PaymentsSettings:
    return PaymentsSettings(
        provider="stripe",
        stripe_secret_key=SecretStr(SECRET_KEY),
        stripe_publishable_key=PUBLISHABLE_KEY,
        stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
        stripe_api_url=api_url,
        stripe_js_url=f"{api_url}/v3/",
    )


@contextlib.asynccontextmanager
async def gourmet(
    database_url: str, tmp_path: Path, api_url: str, **changes: dict[str, Any]
) -> AsyncIterator[tuple[Client, Litestar]]:
    settings = Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=6),
        security=SecuritySettings(staff_token=STAFF_TOKEN, checkouts_per_client=0),
        payments=stripe_settings(api_url),
    ).changed(**changes)
    app = create_app(settings)
    async with serve(asgi_stack(app)) as client:
        yield client, app


def by_card(menu: FixtureMenu) -> dict[str, Any]:
    return {**checkout_body([{"item_id": menu.cake, "quantity": 2}]), "payment": "card"}


async def placed(client: Client, menu: FixtureMenu, key: str = "stripe-1") -> dict[str, Any]:
    """A card order, placed and waiting for its payment (no card with the order)."""
    response = await client.post(
        "/api/orders", json=by_card(menu), headers={"Idempotency-Key": key}
    )
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    assert (order["status"], order["payment_status"]) == ("awaiting_payment", "pending")
    return order


async def intent_of(client: Client, token: str) -> dict[str, Any]:
    response = await client.post(f"/api/orders/{token}/payment-intent")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def deliver(client: Client, body: bytes, signature: str) -> Any:
    return await client.post(
        WEBHOOK,
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


def succeeded(stripe: StripeStandIn) -> list[tuple[bytes, str]]:
    return list(stripe.deliveries("payment_intent.succeeded"))


async def paid_at_stripe(
    client: Client, menu: FixtureMenu, stripe: StripeStandIn
) -> tuple[dict[str, Any], bytes, str]:
    """A card order placed and paid in the browser: the order, and Stripe's signed webhook
    for it, not delivered yet."""
    order = await placed(client, menu)
    stripe.pay((await intent_of(client, order["token"]))["intent"])
    [(body, signature)] = succeeded(stripe)
    return order, body, signature


# ---------------------------------------------------------------------------------------------
# Checkout, the webhook, and what can go wrong between them


async def test_an_order_paid_with_stripe_goes_to_the_kitchen_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        order = await placed(client, menu)
        intent = await intent_of(client, order["token"])
        assert intent["publishable_key"] == PUBLISHABLE_KEY
        assert intent["amount_cents"] == order["totals"]["total_cents"]
        for _ in range(10):  # a page asking again and again: Stripe is read once
            assert (await intent_of(client, order["token"]))["intent"] == intent["intent"]
        reads = [path for method, path in stripe.state.requests if method == "GET"]
        assert reads == [f"/v1/payment_intents/{intent['intent']}"]
        # Nothing goes to the kitchen before Stripe says the payment succeeded.
        assert (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json() == []
        stripe.pay(intent["intent"], DECLINED)  # a first card is declined in the browser
        stripe.pay(intent["intent"])  # the customer confirms with another card
        [(body, signature)] = succeeded(stripe)
        first = await deliver(client, body, signature)
        assert first.json() == {"received": True, "first_delivery": True}
        paid = await order_of(client, order["token"])
        assert (paid["status"], paid["payment_status"]) == ("received", "paid")
        again = await deliver(client, body, signature)  # Stripe delivers at least once
        assert again.json() == {"received": True, "first_delivery": False}
        # The decline's event, delivered after the success (Stripe does not promise an order).
        [(failed, failed_signature)] = stripe.deliveries("payment_intent.payment_failed")
        late = await deliver(client, failed, failed_signature)
        assert late.json() == {"received": True, "first_delivery": True}
        assert await order_of(client, order["token"]) == paid
        kitchen = (await client.get("/api/staff/orders", headers=STAFF_HEADERS)).json()
        assert [o["token"] for o in kitchen] == [order["token"]]
        # The checkout retried (same key) finds the paid order: no second intent.
        retry = await client.post(
            "/api/orders", json=by_card(menu), headers={"Idempotency-Key": "stripe-1"}
        )
        assert (retry.status_code, retry.json()["payment_status"]) == (200, "paid")
        assert len(stripe.state.intents) == 1


@pytest.mark.parametrize("forgery", ["wrong secret", "old timestamp", "another body"])
async def test_a_delivery_not_signed_by_stripe_is_refused_and_changes_nothing(
    menu: FixtureMenu,
    database_url: str,
    tmp_path: Path,
    stripe: StripeStandIn,
    conn: Conn,
    forgery: str,
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        order, body, signature = await paid_at_stripe(client, menu, stripe)
        payload = body.decode()
        if forgery == "wrong secret":
            signature = sign(payload, "whsec_someone_else")
        elif forgery == "old timestamp":  # a replay of a delivery seen ten minutes ago
            signature = sign(payload, WEBHOOK_SECRET, int(time.time()) - 600)
        else:
            event = json.loads(payload)
            event["data"]["object"]["metadata"]["order_token"] = "someone-elses"
            body = json.dumps(event).encode()
        refused = await deliver(client, body, signature)
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "/problems/bad-signature"
        waiting = await order_of(client, order["token"])
        assert waiting["status"] == "awaiting_payment"
        events = await (await conn.execute("SELECT count(*) AS n FROM stripe_event")).fetchone()
        assert events == {"n": 0}


async def test_two_deliveries_of_one_event_at_once_change_the_order_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        order, body, signature = await paid_at_stripe(client, menu, stripe)
        answers = await asyncio.gather(*(deliver(client, body, signature) for _ in range(4)))
        assert sorted(a.json()["first_delivery"] for a in answers) == [False, False, False, True]
        history = [h["status"] for h in (await order_of(client, order["token"]))["history"]]
        assert history == ["awaiting_payment", "received"]


async def test_a_checkout_retried_during_the_webhook_charges_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        order, body, signature = await paid_at_stripe(client, menu, stripe)
        retries = [
            client.post("/api/orders", json=by_card(menu), headers={"Idempotency-Key": "stripe-1"})
            for _ in range(3)
        ]
        intents = [client.post(f"/api/orders/{order['token']}/payment-intent") for _ in range(3)]
        answers = await asyncio.gather(deliver(client, body, signature), *retries, *intents)
        assert all(a.status_code in (200, 409) for a in answers), [a.text for a in answers]
        assert {a.json().get("token") for a in answers[1:4]} == {order["token"]}
        assert len(stripe.state.intents) == 1
        assert [i["status"] for i in stripe.state.intents.values()] == ["succeeded"]
        assert (await order_of(client, order["token"]))["payment_status"] == "paid"


async def refund_jobs_settled(conn: Conn) -> bool:
    """Refunds were owed and every one of them is done (made at Stripe, or given up)."""
    row = await (
        await conn.execute(
            "SELECT count(*) AS owed, count(*) FILTER (WHERE state = 'pending') AS open"
            " FROM outbox WHERE kind = 'refund'"
        )
    ).fetchone()
    return bool(row and row["owed"] and not row["open"])


async def test_a_payment_that_succeeds_after_the_order_was_cancelled_is_refunded(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url, **FAST_OUTBOX) as (client, _):
        order = await placed(client, menu)
        intent = await intent_of(client, order["token"])
        stripe.pay(intent["intent"])  # paid at Stripe; the webhook is still on its way
        cancelled = await client.post(f"/api/orders/{order['token']}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        [(body, signature)] = succeeded(stripe)
        assert (await deliver(client, body, signature)).status_code == 200

        await eventually(lambda: refund_jobs_settled(conn))
        [refund] = stripe.state.refunds.values()
        assert (refund["payment_intent"], refund["amount"]) == (
            intent["intent"],
            order["totals"]["total_cents"],
        )
        assert (await order_of(client, order["token"]))["status"] == "cancelled"


async def test_an_unpaid_order_expires_and_its_intent_is_cancelled_at_stripe(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url, **FAST_OUTBOX) as (client, _):
        order = await placed(client, menu)
        intent = await intent_of(client, order["token"])
        await conn.execute(
            "UPDATE orders SET created_at = now() - interval '16 minutes' WHERE token = %s",
            [order["token"]],
        )

        async def closed_at_stripe() -> bool:
            return bool(stripe.state.intents[intent["intent"]]["status"] == "canceled")

        await eventually(closed_at_stripe)
        assert (await order_of(client, order["token"]))["status"] == "cancelled"
        late = stripe.pay(intent["intent"])  # the form left open since: it can no longer pay
        assert late["error"]["code"] == "payment_intent_unexpected_state"
        assert stripe.state.refunds == {}


async def test_a_managers_partial_refund_goes_through_stripe_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn, conn: Conn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url, **FAST_OUTBOX) as (client, _):
        order = await placed(client, menu)
        intent = await intent_of(client, order["token"])
        stripe.pay(intent["intent"])
        [(body, signature)] = succeeded(stripe)
        await deliver(client, body, signature)
        ask = {"amount_cents": 250, "reason": "cold pizza"}
        headers = {**STAFF_HEADERS, "Idempotency-Key": "refund-1"}
        url = f"/api/manage/orders/{order['number']}/refunds"
        answers = await asyncio.gather(
            *(client.post(url, json=ask, headers=headers) for _ in range(3))
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses.count(201) == 1, statuses  # one refund; the others replay or wait
        assert set(statuses) <= {200, 201, 409}, [a.text for a in answers]
        await eventually(lambda: refund_jobs_settled(conn))
        [refund] = stripe.state.refunds.values()
        assert (refund["payment_intent"], refund["amount"]) == (intent["intent"], 250)


async def test_reconcile_reads_stripes_ledger_and_finds_a_charge_no_order_records(
    menu: FixtureMenu,
    database_url: str,
    tmp_path: Path,
    stripe: StripeStandIn,
    conn: Conn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        _, body, signature = await paid_at_stripe(client, menu, stripe)
        await deliver(client, body, signature)
    for name, value in {
        "GOURMET_DATABASE__URL": database_url,
        "GOURMET_PAYMENTS__PROVIDER": "stripe",
        "GOURMET_PAYMENTS__STRIPE_SECRET_KEY": SECRET_KEY,
        "GOURMET_PAYMENTS__STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
        "GOURMET_PAYMENTS__STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "GOURMET_PAYMENTS__STRIPE_API_URL": stripe.url,
    }.items():
        monkeypatch.setenv(name, value)
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "No differences" in result.output
    # The payment recorded nowhere (the order forgot it): reconciliation says so.
    await conn.execute("UPDATE orders SET payment_reference = NULL, payment_status = 'pending'")
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["payments", "reconcile"])
    assert result.exit_code == 1, result.output


async def test_choosing_pay_at_pickup_cancels_the_intent_so_it_cannot_charge(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        order = await placed(client, menu)
        intent = await intent_of(client, order["token"])
        switched = await client.post(f"/api/orders/{order['token']}/pay-at-pickup")
        assert switched.status_code == 200, switched.text
        assert switched.json()["payment"] == "pay_at_pickup"
        assert stripe.state.intents[intent["intent"]]["status"] == "canceled"
        late = stripe.pay(intent["intent"])  # a second tab still holding the card form
        assert late["error"]["code"] == "payment_intent_unexpected_state"


async def test_a_card_token_is_refused_where_cards_are_confirmed_in_the_browser(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn, conn: Conn
) -> None:
    """A charge from a card token would be an attempt the order never records: refused before
    anything is written or charged."""
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        refused = await client.post(
            "/api/orders", json={**by_card(menu), "card_token": "pm_card_visa"}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["type"] == "/problems/card-confirmed-in-browser"
        assert await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone() == {"n": 0}
        order = await placed(client, menu)
        paying = await client.post(
            f"/api/orders/{order['token']}/payment", json={"card_token": "pm_card_visa"}
        )
        assert paying.status_code == 422, paying.text
        assert stripe.state.intents == {}


async def test_stripe_down_offers_pay_at_pickup(
    menu: FixtureMenu, database_url: str, tmp_path: Path
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    async with gourmet(database_url, tmp_path, nobody) as (client, _):
        order = await placed(client, menu)
        down = await client.post(f"/api/orders/{order['token']}/payment-intent")
        assert down.status_code == 503
        problem = down.json()
        assert problem["type"] == "/problems/payments-unavailable"
        assert problem["choices"] == ["retry", "pay_at_pickup"]
        assert "Retry-After" in down.headers
        switched = await client.post(f"/api/orders/{order['token']}/pay-at-pickup")
        assert switched.json()["status"] == "received"


async def test_the_order_page_allows_stripe_and_nothing_more(
    menu: FixtureMenu, database_url: str, tmp_path: Path, stripe: StripeStandIn
) -> None:
    async with gourmet(database_url, tmp_path, stripe.url) as (client, _):
        order = await placed(client, menu)
        page = await client.get(f"/orders/{order['token']}")
        policy = page.headers["Content-Security-Policy"]
        assert f"script-src 'self' {stripe.url};" in policy
        assert f"connect-src 'self' {stripe.url};" in policy
        assert policy.endswith(f"frame-src {stripe.url}")
        assert f'<script src="{stripe.url}/v3/"></script>' in page.text
        checkout = await client.get("/checkout")
        assert stripe.url not in checkout.headers["Content-Security-Policy"]
