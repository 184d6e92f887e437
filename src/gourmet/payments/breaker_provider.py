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
    ChargeResult,
    CircuitOpen,
    PaymentError,
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

    async def settle_attempt(self, *, idempotency_key: str) -> ChargeResult | None:
        return await self._call(lambda: self.inner.settle_attempt(idempotency_key=idempotency_key))

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
