"""The outbox worker ends when it is cancelled, even when the cancellation reaches it as a
database error (a query cancelled on the server comes back as QueryCanceled, which the pool
turns into a 503-style problem): before, it logged that and went round again, and the app's
shutdown waited for it for ever (a test session hung in a fixture's teardown)."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from gourmet.db.pool import DatabaseBusy, GuardedPool
from gourmet.ordering.notifications.outbox import OutboxWorker

pytestmark = pytest.mark.anyio


async def test_a_cancelled_worker_ends_though_its_query_said_busy() -> None:
    started = asyncio.Event()

    async def chore() -> None:
        started.set()
        try:
            await asyncio.sleep(60)  # a query on the server
        except asyncio.CancelledError:
            raise DatabaseBusy("That took too long and was stopped.", retry_after_s=1) from None

    worker = OutboxWorker(cast(GuardedPool, None), {}, every_s=0.01, lease_s=1.0, chores=(chore,))
    task = asyncio.create_task(worker.run())
    await started.wait()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2.0)
    assert done, "the worker went round again after being cancelled"
    assert task.cancelled()
