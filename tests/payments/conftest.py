"""The sandbox provider as a real service: one granian process per test session, reset before
each test, and an httpx client owned by the test as the application's lifespan would own it."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest

from gourmet.payments.client import HttpPaymentProvider, PaymentTimeouts
from tests.payments.helpers import FakeClock, Sandbox
from tests.payments.stripe_standin import WEBHOOK_SECRET, StripeStandIn
from tests.processes import free_port, start, stop

STARTUP_DEADLINE_S = 30.0
CLOSE_DEADLINE_S = 5.0


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        [sys.executable, "-m", "gourmet.payments.sandbox", "--port", str(port)],
        dict(os.environ),
        tmp_path_factory.mktemp("sandbox") / "sandbox.log",
        f"{url}/health",
    )
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[Sandbox]:
    http = httpx.AsyncClient(base_url=sandbox_url, timeout=5.0)
    try:
        handle = Sandbox(sandbox_url, http)
        await handle.control(latency_ms=0, failure_rate=0, failure_status=503, reset=True)
        yield handle
    finally:
        # Bounded: a CI run once hung here for good, after a test whose request to the sandbox
        # was cancelled mid-way (a poll's deadline); a stuck close must fail, not stall the run.
        with anyio.move_on_after(CLOSE_DEADLINE_S):
            await http.aclose()


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def provider(http_client: httpx.AsyncClient, sandbox: Sandbox) -> HttpPaymentProvider:
    return HttpPaymentProvider(http_client, base_url=sandbox.url, timeouts=PaymentTimeouts())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def stripe() -> Iterator[StripeStandIn]:
    """Stripe, as far as Gourmet calls it: a local stand-in (tests/payments/stripe_standin.py)."""
    with StripeStandIn(WEBHOOK_SECRET) as standin:
        yield standin
