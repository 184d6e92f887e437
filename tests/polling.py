"""Waiting for something to become true, with a deadline instead of a sleep."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")
POLL_EVERY_S = 0.02


async def wait_for(
    fetch: Callable[[], Awaitable[T]], done: Callable[[T], Any], timeout_s: float = 5.0
) -> T:
    """Call ``fetch`` until ``done(result)`` holds; return that result, or fail after
    ``timeout_s``."""
    with anyio.fail_after(timeout_s):
        while True:
            result = await fetch()
            if done(result):
                return result
            await anyio.sleep(POLL_EVERY_S)  # polling interval; the deadline bounds the wait


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Yield to the event loop until ``predicate()`` holds; fail after ``timeout_s``."""
    limit = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < limit, "condition not reached in time"
        await anyio.sleep(0.001)
