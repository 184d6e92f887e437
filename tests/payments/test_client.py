"""HttpPaymentProvider against the real sandbox service over HTTP: every outcome of a charge."""

from __future__ import annotations

import anyio
import httpx
import pytest

from gourmet.payments.client import HttpPaymentProvider, PaymentTimeouts
from gourmet.payments.provider import (
    ChargeStatus,
    PaymentDeclined,
    PaymentRequestRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from tests.payments.helpers import Sandbox, pay
from tests.processes import free_port

pytestmark = pytest.mark.anyio


async def test_approved_charge_is_recorded(provider: HttpPaymentProvider, sandbox: Sandbox) -> None:
    result = await pay(provider, "order-1")

    assert result.status is ChargeStatus.APPROVED
    assert result.require_approved() is result
    assert [c["id"] for c in await sandbox.charges()] == [result.charge_id]


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_decline", "card_declined"),
        ("tok_expired", "expired_card"),
        ("tok_nope", "invalid_card"),
    ],
)
async def test_declined_charge_is_a_result_not_an_error(
    provider: HttpPaymentProvider, token: str, reason: str
) -> None:
    result = await pay(provider, "order-2", card_token=token)

    assert result.status is ChargeStatus.DECLINED
    assert result.reason == reason
    with pytest.raises(PaymentDeclined) as declined:
        result.require_approved()
    assert declined.value.result is result


async def test_same_key_twice_charges_once(provider: HttpPaymentProvider, sandbox: Sandbox) -> None:
    first = await pay(provider, "order-3")
    second = await pay(provider, "order-3")

    assert second == first
    assert len(await sandbox.charges("order-3")) == 1
    assert await sandbox.attempts() == 2


async def test_same_key_at_once_charges_once(
    provider: HttpPaymentProvider, sandbox: Sandbox
) -> None:
    # Latency keeps all ten requests in flight together at the sandbox.
    await sandbox.control(latency_ms=100)
    results = []

    async def one() -> None:
        results.append(await pay(provider, "order-4"))

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(one)

    assert len({r.charge_id for r in results}) == 1
    assert len(await sandbox.charges("order-4")) == 1


async def test_key_reused_for_another_amount_is_rejected(provider: HttpPaymentProvider) -> None:
    await pay(provider, "order-5", amount_cents=1000)

    with pytest.raises(PaymentRequestRejected) as rejected:
        await pay(provider, "order-5", amount_cents=9999)
    assert rejected.value.status_code == 422


async def test_slow_provider_times_out_and_a_retry_charges_once(
    http_client: httpx.AsyncClient, provider: HttpPaymentProvider, sandbox: Sandbox
) -> None:
    impatient = HttpPaymentProvider(
        http_client, base_url=sandbox.url, timeouts=PaymentTimeouts(read_s=0.1, total_s=0.1)
    )
    await sandbox.control(latency_ms=1000)  # ten times the client's patience

    with pytest.raises(ProviderTimeout):
        await pay(impatient, "order-6")

    # The timed-out request is still being served; a retry with the same key must not add a
    # second charge, whichever of the two finishes first.
    await sandbox.control(latency_ms=0)
    retried = await pay(provider, "order-6")
    await sandbox.wait_for_in_flight(0)
    assert [c["id"] for c in await sandbox.charges("order-6")] == [retried.charge_id]


@pytest.mark.parametrize("status", [500, 503])
async def test_server_error_is_transient(
    provider: HttpPaymentProvider, sandbox: Sandbox, status: int
) -> None:
    await sandbox.control(failure_rate=1.0, failure_status=status)

    with pytest.raises(ProviderUnavailable) as unavailable:
        await pay(provider, "order-7")
    assert not isinstance(unavailable.value, ProviderTimeout)
    assert str(status) in str(unavailable.value)
    assert await sandbox.charges() == []


async def test_unreachable_provider_is_transient(http_client: httpx.AsyncClient) -> None:
    nowhere = HttpPaymentProvider(http_client, base_url=f"http://127.0.0.1:{free_port()}")

    with pytest.raises(ProviderUnavailable):
        await pay(nowhere, "order-8")


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PaymentTimeouts(total_s=0)
