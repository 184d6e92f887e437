"""Whether the database is reachable, as last seen by a connection that is always open.

The notification hub's LISTEN connection is held for the life of the process; it notices a lost
database at once (its socket closes), and a database that stops answering (frozen, or a network
that drops packets, where nothing closes) by probing it twice a second. Its state is the cheapest
honest answer to "is the database up?", letting requests be refused in microseconds while it is
down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def answer_within(
    work: Awaitable[T], timeout_s: float, on_timeout: Callable[[], object] | None = None
) -> T:
    """The result of ``work`` if it completes within ``timeout_s``, else TimeoutError at once.

    Unlike ``asyncio.timeout``, this does not wait for the cancelled work to end: cancelling a
    query, psycopg asks the server to cancel it and waits for that up to 10 s, which against a
    server that does not answer is 10 s more. ``on_timeout`` then runs (to drop the connection,
    say), once the work has taken its cancellation; the work then ends in the background."""
    task = asyncio.ensure_future(work)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except BaseException:  # the caller itself was cancelled: so is the work
        task.cancel()
        task.add_done_callback(_consume)
        raise
    if task in done:
        return task.result()
    task.cancel()
    task.add_done_callback(_consume)
    await asyncio.sleep(0)  # the work takes the cancellation and lets go of its socket
    if on_timeout is not None:
        on_timeout()
    raise TimeoutError(f"no answer within {timeout_s} s")


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: an abandoned probe's failure is not worth a log line


class DatabaseHealth:
    def __init__(self) -> None:
        self.up = True  # optimistic until a connection attempt says otherwise
        self.changed_at = time.monotonic()
        self.outages = 0

    def mark_up(self) -> None:
        if not self.up:
            self.up = True
            self.changed_at = time.monotonic()

    def mark_down(self) -> None:
        if self.up:
            self.up = False
            self.outages += 1
            self.changed_at = time.monotonic()
