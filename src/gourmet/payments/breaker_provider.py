"""``BreakerProvider``: a payment provider behind a :class:`CircuitBreaker`.

What counts as a failure matters more than the breaker's arithmetic: only a provider that could
not answer (:class:`ProviderUnavailable`: unreachable, 5xx, timeout) counts. Declines and refused
requests are the provider answering, so a run of declined cards never pauses card payments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from gourmet.payments.breaker import CircuitBreaker
from gourmet.payments.provider import (
    BrowserConfirmedProvider,
    ChargeResult,
    CircuitOpen,
    Intent,
    PaymentError,
    PaymentEvent,
    PaymentProvider,
    ProviderUnavailable,
    RefundResult,
)

T = TypeVar("T")


class BreakerProvider:
    """A :class:`PaymentProvider` that asks ``breaker`` before each call to ``inner``."""

    def __init__(self, inner: PaymentProvider, breaker: CircuitBreaker) -> None:
        self.inner = inner
        self.breaker = breaker

    async def charge(
        self,
        *,
        idempotency_key: str,
        amount_cents: int,
        currency: str,
        description: str,
        card_token: str,
    ) -> ChargeResult:
        return await self._call(
            lambda: self.inner.charge(
                idempotency_key=idempotency_key,
                amount_cents=amount_cents,
                currency=currency,
                description=description,
                card_token=card_token,
            )
        )

    async def settle_attempt(
        self, *, idempotency_key: str, reference: str | None = None
    ) -> ChargeResult | None:
        return await self._call(
            lambda: self.inner.settle_attempt(idempotency_key=idempotency_key, reference=reference)
        )

    async def refund(
        self, *, idempotency_key: str, charge_id: str, amount_cents: int, reason: str
    ) -> RefundResult:
        return await self._call(
            lambda: self.inner.refund(
                idempotency_key=idempotency_key,
                charge_id=charge_id,
                amount_cents=amount_cents,
                reason=reason,
            )
        )

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        permit = self.breaker.try_acquire()
        if permit is None:
            raise CircuitOpen(
                "card payments are paused: the provider has been failing",
                retry_after_s=self.breaker.retry_after_s(),
            )
        try:
            result = await call()
        except ProviderUnavailable:
            permit.failure()
            raise
        except PaymentError:
            permit.success()  # the provider answered (it refused our request): it is up
            raise
        else:
            permit.success()  # approved or declined: a decline is the provider working
        finally:
            permit.ignore()  # cancelled, or a bug of ours; a no-op after the reports above
        return result


class BreakerIntents(BreakerProvider):
    """A :class:`BrowserConfirmedProvider` behind the breaker: making and reading a payment the
    browser confirms counts like any call."""

    def __init__(self, inner: BrowserConfirmedProvider, breaker: CircuitBreaker) -> None:
        super().__init__(inner, breaker)
        self.intents = inner
        self.publishable_key = inner.publishable_key

    async def start_intent(
        self,
        *,
        idempotency_key: str,
        order_token: str,
        amount_cents: int,
        currency: str,
        description: str,
    ) -> Intent:
        return await self._call(
            lambda: self.intents.start_intent(
                idempotency_key=idempotency_key,
                order_token=order_token,
                amount_cents=amount_cents,
                currency=currency,
                description=description,
            )
        )

    async def intent(self, intent_id: str) -> Intent:
        return await self._call(lambda: self.intents.intent(intent_id))

    def event(self, payload: bytes, signature: str | None) -> PaymentEvent:
        return self.intents.event(payload, signature)  # checked here: no call to make

    async def aclose(self) -> None:
        await self.intents.aclose()
