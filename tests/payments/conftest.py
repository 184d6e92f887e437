"""The sandbox provider as a real service: one granian process per test session, reset before
each test, and an httpx client owned by the test as the application's lifespan would own it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from gourmet.payments.client import HttpPaymentProvider, PaymentTimeouts
from tests.payments.helpers import FakeClock, Sandbox, free_port

STARTUP_DEADLINE_S = 30.0


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("sandbox") / "sandbox.log"
    with log.open("wb") as out:
        # A session of its own, so teardown can stop granian's worker with it if it hangs.
        process = subprocess.Popen(
            [sys.executable, "-m", "gourmet.payments.sandbox", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        _stop(process)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sandbox exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # polling interval while the server starts
    raise RuntimeError(f"sandbox not healthy after {STARTUP_DEADLINE_S} s:\n{log.read_text()}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)  # granian's graceful shutdown
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
async def sandbox(sandbox_url: str) -> AsyncIterator[Sandbox]:
    async with httpx.AsyncClient(base_url=sandbox_url, timeout=5.0) as http:
        handle = Sandbox(sandbox_url, http)
        await handle.control(latency_ms=0, failure_rate=0, failure_status=503, reset=True)
        yield handle


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
