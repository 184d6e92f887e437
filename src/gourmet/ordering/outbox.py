"""The outbox: work for another service (a refund, an email) written in the same transaction as
the change that calls for it, and done afterwards by :class:`OutboxWorker`.

Written with the change, a job exists exactly when the change committed: a rejected order whose
transaction rolled back owes no refund, and one that committed cannot lose its refund to a crash
a moment later. Each job is named by its event (``event_key``, unique), so the same event never
makes two jobs, and the same name is the provider's idempotency key, so two workers that both run
a job (one's lease ran out while it was still waiting) cause one refund.

A worker takes jobs by moving their ``due_at`` past a lease and committing: it holds no
connection while it calls out (a slow provider must not drain the pool, as in November). A
worker that dies mid-way hands its jobs on when their lease runs out. A transient failure is
tried again later (the delay doubles, up to a few minutes); a final one marks the job failed,
logged and counted, for an operator (``gourmet payments reconcile`` shows what it left).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
import structlog
from psycopg.types.json import Jsonb

from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.problems import ServiceUnavailable
from gourmet.telemetry import metrics

Kind = Literal["refund", "email", "sms"]
CLAIM_BATCH = 20
MAX_RETRY_DELAY_S = 300.0
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: Kind
    event_key: str
    order_id: int | None
    payload: dict[str, Any]
    attempts: int  # this try included


class RetryLater(Exception):  # noqa: N818 - reads as what the worker should do
    """A transient failure: try the job again after a while."""


class GiveUp(Exception):  # noqa: N818 - reads as what the worker should do
    """A final failure: trying again cannot help."""


Handler = Callable[[Job], Awaitable[None]]


async def enqueue(
    conn: Conn, kind: Kind, event_key: str, order_id: int | None, payload: dict[str, Any]
) -> bool:
    """Add the job for this event, in the caller's transaction; False if it already exists."""
    cursor = await conn.execute(
        "INSERT INTO outbox (kind, event_key, order_id, payload) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (event_key) DO NOTHING",
        (kind, event_key, order_id, Jsonb(payload)),
    )
    return cursor.rowcount == 1


async def claim(conn: Conn, kinds: list[str], lease_s: float, limit: int) -> list[Job]:
    """Take up to ``limit`` due jobs of these kinds for ``lease_s`` (commit before working)."""
    rows = await (
        await conn.execute(
            "UPDATE outbox SET due_at = now() + make_interval(secs => %s),"
            " attempts = attempts + 1"
            " WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND due_at <= now()"
            "   AND kind = ANY(%s) ORDER BY due_at, id LIMIT %s FOR UPDATE SKIP LOCKED)"
            " RETURNING id, kind, event_key, order_id, payload, attempts",
            (lease_s, kinds, limit),
        )
    ).fetchall()
    return [Job(**row) for row in rows]


async def mark_done(conn: Conn, job_id: int) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'done', done_at = now(), last_error = NULL WHERE id = %s",
        (job_id,),
    )


async def _retry_later(conn: Conn, job: Job, error: str, delay_s: float) -> None:
    await conn.execute(
        "UPDATE outbox SET due_at = now() + make_interval(secs => %s), last_error = %s"
        " WHERE id = %s AND state = 'pending'",
        (delay_s, error[:500], job.id),
    )


async def _give_up(conn: Conn, job: Job, error: str) -> None:
    await conn.execute(
        "UPDATE outbox SET state = 'failed', done_at = now(), last_error = %s"
        " WHERE id = %s AND state = 'pending'",
        (error[:500], job.id),
    )


def retry_delay_s(attempts: int, rng: random.Random) -> float:
    """Doubling from 2 s, jittered, at most MAX_RETRY_DELAY_S."""
    return float(min(2.0**attempts, MAX_RETRY_DELAY_S) * rng.uniform(0.5, 1.0))


class OutboxWorker:
    """Runs the outbox's jobs with ``handlers`` (by kind), and ``chores`` (periodic work, such as
    expiring unpaid orders) on each round. A handler marks its job done in the transaction that
    records the outcome (so the outcome and "done" commit together), raises
    :class:`RetryLater` or :class:`GiveUp`; anything else it raises is a bug, logged, and the job
    is tried again later. Nothing stops the loop but cancellation."""

    def __init__(
        self,
        pool: GuardedPool,
        handlers: Mapping[str, Handler],
        *,
        every_s: float,
        lease_s: float,
        chores: tuple[Callable[[], Awaitable[object]], ...] = (),
        rng: random.Random | None = None,
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._every_s = every_s
        self._lease_s = lease_s
        self._chores = chores
        self._rng = rng or random.Random()
        self.wake = asyncio.Event()  # set to run a round at once (tests, a fresh job)

    async def run_once(self) -> int:
        """Do every chore, then every due job; return how many jobs were taken."""
        for chore in self._chores:
            await chore()
        taken = 0
        while self._handlers:
            async with self._pool.connection() as conn:
                jobs = await claim(conn, list(self._handlers), self._lease_s, CLAIM_BATCH)
            taken += len(jobs)
            # One order's jobs in the order they were written (a customer reads "accepted"
            # before "ready"); different orders' side by side.
            by_order: dict[int | None, list[Job]] = {}
            for job in jobs:
                by_order.setdefault(job.order_id, []).append(job)
            await asyncio.gather(*(self._run_in_turn(group) for group in by_order.values()))
            if len(jobs) < CLAIM_BATCH:
                return taken
        return taken

    async def _run_in_turn(self, jobs: list[Job]) -> None:
        for job in sorted(jobs, key=lambda job: job.id):
            await self._run(job)

    async def _run(self, job: Job) -> None:
        outcome = "done"
        try:
            await self._handlers[job.kind](job)
        except RetryLater as exc:
            outcome = "retry"
            await self._settle(job, _retry_later, str(exc), retry_delay_s(job.attempts, self._rng))
        except GiveUp as exc:
            outcome = "failed"
            log.error("outbox_job_failed", kind=job.kind, event=job.event_key, error=str(exc))
            await self._settle(job, _give_up, str(exc))
        except Exception as exc:  # a bug: the job waits for its lease and is tried again
            outcome = "error"
            log.exception("outbox_job_error", kind=job.kind, event=job.event_key)
            await self._settle(job, _retry_later, repr(exc), retry_delay_s(job.attempts, self._rng))
        metrics.OUTBOX_JOBS.labels(kind=job.kind, outcome=outcome).inc()

    async def _settle(self, job: Job, how: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            async with self._pool.connection() as conn:
                await how(conn, job, *args)
        except (ServiceUnavailable, psycopg.Error) as exc:  # the lease hands it on
            log.warning("outbox_job_not_settled", event=job.event_key, error=str(exc))

    async def run(self) -> None:
        """Run forever: a round every ``every_s`` (or at once when woken)."""
        while True:
            try:
                await self.run_once()
            except (ServiceUnavailable, psycopg.Error) as exc:  # the next round tries again
                log.warning("outbox_round_failed", error=str(exc))
            except Exception:  # a bug: logged, never the end of the worker
                log.exception("outbox_round_error")
            self.wake.clear()
            jitter = self._every_s * self._rng.uniform(0.8, 1.2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), jitter)
