"""Idempotency keys are kept for their retention period, then pruned: the table stays bounded.

A key makes a retried checkout safe: the same key and body return the order it placed. A client
retries within seconds or minutes, so after ``GOURMET_ORDERS__IDEMPOTENCY_RETENTION_HOURS`` (48) a
key has done its work; without pruning, every checkout of the restaurant's life would keep a row.
Each process prunes now and then (at a jittered interval, so processes started together do not
prune together), oldest keys first, in small batches that never wait on a lock.
"""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import psycopg
import structlog

from gourmet.cancellation import stop_if_cancelled
from gourmet.db.pool import GuardedPool
from gourmet.ordering.checkout import repository as repo
from gourmet.problems import ServiceUnavailable
from gourmet.telemetry import metrics

PRUNE_BATCH = 1000  # rows per statement: short transactions, short row locks
# The card provider's events handled are kept this long to recognise a delivery again (Stripe
# tries one for up to three days), then pruned with the keys.
EVENT_RETENTION = timedelta(days=30)
log = structlog.get_logger(__name__)


class KeyPruner:
    def __init__(
        self,
        pool: GuardedPool,
        *,
        retention: timedelta,
        every_s: float,
        rng: random.Random | None = None,
    ) -> None:
        self._pool = pool
        self._retention = retention
        self._every_s = every_s
        self._rng = rng or random.Random()

    async def prune(self) -> int:
        """Delete every key older than the retention, a batch at a time, and the card
        provider's events older than EVENT_RETENTION; return how many keys."""
        pruned = 0
        while True:
            async with self._pool.connection() as conn:
                deleted = await repo.prune_idempotency_keys(conn, self._retention, PRUNE_BATCH)
            pruned += deleted
            metrics.IDEMPOTENCY_KEYS_PRUNED.inc(deleted)
            if deleted < PRUNE_BATCH:
                break
        while True:
            async with self._pool.connection() as conn:
                events = await repo.prune_payment_events(conn, EVENT_RETENTION, PRUNE_BATCH)
            if events < PRUNE_BATCH:
                return pruned

    async def run(self) -> None:
        """Run forever: prune every ``every_s`` (0.5 to 1.5 times, at random)."""
        while True:
            await asyncio.sleep(self._every_s * self._rng.uniform(0.5, 1.5))
            try:
                pruned = await self.prune()
            except (ServiceUnavailable, psycopg.Error) as exc:  # the next round tries again
                log.warning("idempotency_keys_not_pruned", error=str(exc))
                stop_if_cancelled()  # a cancellation that came back as a database error
                continue
            if pruned:
                log.info("idempotency_keys_pruned", pruned=pruned)
