"""Stripe's adapter alone against the local stand-in, and the settings production accepts."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from gourmet.config import DatabaseSettings, PaymentsSettings, SecuritySettings, Settings
from gourmet.payments import stripe_provider
from gourmet.payments.provider import ChargeStatus, PaymentRequestRejected
from gourmet.payments.stripe_provider import StripeProvider
from gourmet.web.security import PRIVATE_HEADERS, with_card_provider
from tests.payments.stripe_account import DECLINED
from tests.payments.stripe_standin import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    StripeStandIn,
)
from tests.payments.test_stripe import stripe_settings

pytestmark = pytest.mark.anyio


async def test_the_adapter_makes_one_intent_per_key_and_maps_stripes_answers(
    stripe: StripeStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = StripeProvider(
        secret_key=SECRET_KEY,
        publishable_key=PUBLISHABLE_KEY,
        webhook_secret=WEBHOOK_SECRET,
        api_url=stripe.url,
    )
    try:
        made = [
            await provider.start_intent(
                idempotency_key="tok-1",
                order_token="tok",
                amount_cents=1250,
                currency="EUR",
                description="order 1",
            )
            for _ in range(2)
        ]
        assert made[0] == made[1]
        assert (made[0].status, made[0].amount_cents) == ("requires_payment_method", 1250)
        assert made[0].client_secret.startswith(f"{made[0].id}_secret_")
        # An abandoned attempt is cancelled: its secret can no longer pay.
        assert await provider.settle_attempt(idempotency_key="tok-1", reference=made[0].id) is None
        assert stripe.state.intents[made[0].id]["status"] == "canceled"
        # A server-side charge: approved, or declined with Stripe's decline code.
        approved = await provider.charge(
            idempotency_key="tok-2",
            amount_cents=900,
            currency="EUR",
            description="order 2",
            card_token="pm_card_visa",
        )
        assert approved.status is ChargeStatus.APPROVED
        declined = await provider.charge(
            idempotency_key="tok-3",
            amount_cents=900,
            currency="EUR",
            description="order 3",
            card_token=DECLINED,
        )
        assert (declined.status, declined.reason) == (ChargeStatus.DECLINED, "generic_decline")
        assert declined.charge_id.startswith("pi_")
        # Refunds: idempotent per key, never more than was paid.
        part = await provider.refund(
            idempotency_key="r-1", charge_id=approved.charge_id, amount_cents=400, reason="cold"
        )
        again = await provider.refund(
            idempotency_key="r-1", charge_id=approved.charge_id, amount_cents=400, reason="cold"
        )
        assert part == again
        with pytest.raises(PaymentRequestRejected):
            await provider.refund(
                idempotency_key="r-2", charge_id=approved.charge_id, amount_cents=501, reason="x"
            )
        ledger = await provider.ledger()
        assert {(c.idempotency_key, c.approved, c.amount_cents) for c in ledger.charges} == {
            ("tok-1", False, 0),
            ("tok-2", True, 900),
            ("tok-3", False, 0),
        }
        assert [(r.idempotency_key, r.amount_cents) for r in ledger.refunds] == [("r-1", 400)]
        monkeypatch.setattr(stripe_provider, "PAGE", 1)  # a page each: the cursor followed
        assert await provider.ledger() == ledger
    finally:
        await provider.aclose()


def test_production_takes_live_keys_only() -> None:
    def production(payments: PaymentsSettings) -> Settings:
        return Settings(
            environment="production",
            database=DatabaseSettings(url="postgresql://x@/y"),
            security=SecuritySettings(
                staff_token="a-live-secret-of-32-characters!!", cookie_secure=True
            ),
            payments=payments,
        )

    with pytest.raises(ValueError, match="sandbox"):
        production(PaymentsSettings())
    with pytest.raises(ValueError, match="test-mode"):
        production(stripe_settings("https://api.stripe.com"))
    live_key = "sk_live_" + "51HxQ2kLmN8pR4tV6wY9zB3cD5fG7hJ0" * 3
    live = PaymentsSettings(
        provider="stripe",
        stripe_secret_key=SecretStr(live_key),
        stripe_publishable_key="pk_live_x",
        stripe_webhook_secret=SecretStr("whsec_x"),
    )
    assert production(live).payments.provider == "stripe"
    assert live_key not in repr(production(live))
    wrongs: list[tuple[dict[str, Any], str]] = [
        ({"stripe_secret_key": SecretStr("sk_live_CHANGE-ME")}, "placeholder"),
        ({"stripe_api_url": "http://127.0.0.1:9"}, "stand-in"),
        ({"stripe_js_url": "https://elsewhere.example/v3/"}, "stand-in"),
    ]
    for wrong, why in wrongs:
        with pytest.raises(ValueError, match=why):
            production(live.model_copy(update=wrong))
    assert production(PaymentsSettings(url=None)).payments.url is None  # pay at pickup only
    with pytest.raises(ValueError, match="GOURMET_PAYMENTS__STRIPE_WEBHOOK_SECRET"):
        PaymentsSettings(
            provider="stripe",
            stripe_secret_key=SecretStr("sk_live_x"),
            stripe_publishable_key="pk_live_x",
        )


def test_the_order_pages_policy_names_stripes_own_origins_and_no_more() -> None:
    headers = with_card_provider(PRIVATE_HEADERS, "https://js.stripe.com/v3/", None)
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com https://*.js.stripe.com;" in policy
    assert "connect-src 'self' https://api.stripe.com;" in policy
    assert policy.endswith(
        "frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
    )
    assert "style-src 'self';" in policy  # nothing else widened
    assert headers["Cache-Control"] == PRIVATE_HEADERS["Cache-Control"]
