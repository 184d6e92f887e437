"""BreakerProvider around the HTTP client and the real sandbox: calls are counted at the sandbox,
and the breaker's clock is a fake one, so the cool-down passes without waiting."""

from __future__ import annotations

import anyio
import pytest

from gourmet.payments.breaker import BreakerConfig, BreakerState, CircuitBreaker
from gourmet.payments.breaker_provider import BreakerProvider
from gourmet.payments.client import HttpPaymentProvider
from gourmet.payments.provider import ChargeResult, CircuitOpen, ProviderUnavailable
from tests.payments.helpers import FakeClock, Sandbox, pay, state

pytestmark = pytest.mark.anyio


@pytest.fixture
def guarded(provider: HttpPaymentProvider, clock: FakeClock) -> BreakerProvider:
    config = BreakerConfig(failure_threshold=3, open_for_s=30, half_open_max_calls=1)
    return BreakerProvider(provider, CircuitBreaker(config, clock=clock))


async def trip(guarded: BreakerProvider, sandbox: Sandbox) -> None:
    await sandbox.control(failure_rate=1.0)
    for attempt in range(3):
        with pytest.raises(ProviderUnavailable):
            await pay(guarded, f"trip-{attempt}")
    assert state(guarded.breaker) is BreakerState.OPEN


async def test_open_breaker_rejects_without_calling(
    guarded: BreakerProvider, sandbox: Sandbox
) -> None:
    await trip(guarded, sandbox)
    assert await sandbox.attempts() == 3

    for attempt in range(5):
        with pytest.raises(CircuitOpen) as rejected:
            await pay(guarded, f"rejected-{attempt}")
    assert rejected.value.retry_after_s == 30
    assert await sandbox.attempts() == 3  # not one of the five reached the provider
    assert guarded.breaker.rejected_calls == 5
    assert guarded.breaker.opened_count == 1


async def test_half_open_trial_closes_the_breaker(
    guarded: BreakerProvider, sandbox: Sandbox, clock: FakeClock
) -> None:
    await trip(guarded, sandbox)
    await sandbox.control(failure_rate=0.0, latency_ms=1000)  # recovered; slow, so calls overlap
    clock.advance(30)
    assert state(guarded.breaker) is BreakerState.HALF_OPEN

    trial: list[ChargeResult] = []

    async def run_trial() -> None:
        trial.append(await pay(guarded, "trial"))

    async with anyio.create_task_group() as group:
        group.start_soon(run_trial)
        await sandbox.wait_for_in_flight(1)
        with pytest.raises(CircuitOpen):  # one trial at a time: the second call is refused
            await pay(guarded, "while-trial")

    assert trial[0].approved
    assert state(guarded.breaker) is BreakerState.CLOSED
    assert await sandbox.attempts() == 4
    assert await pay(guarded, "after") is not None


async def test_failed_trial_opens_again(
    guarded: BreakerProvider, sandbox: Sandbox, clock: FakeClock
) -> None:
    await trip(guarded, sandbox)
    clock.advance(30)

    with pytest.raises(ProviderUnavailable):
        await pay(guarded, "trial")
    assert state(guarded.breaker) is BreakerState.OPEN
    assert guarded.breaker.opened_count == 2
    assert await sandbox.attempts() == 4


async def test_declines_never_open_the_breaker(guarded: BreakerProvider, sandbox: Sandbox) -> None:
    for attempt in range(6):
        result = await pay(guarded, f"declined-{attempt}", card_token="tok_decline")
        assert not result.approved
    assert state(guarded.breaker) is BreakerState.CLOSED
    assert len(await sandbox.charges()) == 6
