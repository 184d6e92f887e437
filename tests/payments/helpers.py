"""Helpers for the payment tests: a handle on the sandbox service, a fake clock, a charge."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from gourmet.payments.breaker import BreakerState, CircuitBreaker
from gourmet.payments.provider import ChargeResult, PaymentProvider


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Sandbox:
    """Handle on the running sandbox: its URL and its test-only endpoints."""

    url: str
    http: httpx.AsyncClient

    async def control(self, **changes: Any) -> None:
        response = await self.http.post("/control", json=changes)
        response.raise_for_status()

    async def stats(self) -> dict[str, Any]:
        response = await self.http.get("/charges")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def charges(self, key: str | None = None) -> list[dict[str, Any]]:
        charges: list[dict[str, Any]] = (await self.stats())["charges"]
        return [c for c in charges if key is None or c["idempotency_key"] == key]

    async def attempts(self) -> int:
        return int((await self.stats())["attempts"])

    async def wait_for_in_flight(self, count: int, deadline_s: float = 10.0) -> None:
        """Poll until exactly ``count`` charge requests are being handled at the sandbox."""
        deadline = time.monotonic() + deadline_s
        while (await self.stats())["in_flight"] != count:
            if time.monotonic() > deadline:
                raise AssertionError(f"sandbox never had {count} charge(s) in flight")
            await anyio.sleep(0.02)  # polling interval; the loop checks the state


async def pay(
    provider: PaymentProvider, key: str, card_token: str = "tok_visa", amount_cents: int = 1250
) -> ChargeResult:
    """One charge with the defaults of a typical order."""
    return await provider.charge(
        idempotency_key=key,
        amount_cents=amount_cents,
        currency="EUR",
        description=f"Gourmet order {key}",
        card_token=card_token,
    )


def state(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read through a call: mypy would otherwise keep an earlier assert's
    narrowing of ``breaker.state`` across the calls that change it."""
    return breaker.state
