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
tried again later by the :class:`RetryPolicy`; a final one (:class:`GiveUp`), or a transient one
still failing when the policy runs out, settles the job ``failed`` with its reason in
``last_error``: logged on one line, counted (``gourmet_outbox_jobs_failed_total``, alerted on),
listed for staff (:func:`failed_jobs`, ``GET /api/ops/failed-jobs``) and never tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

import psycopg
import structlog
from psycopg.types.json import Jsonb

from gourmet.cancellation import stop_if_cancelled
from gourmet.db.pool import GuardedPool
from gourmet.db.types import Conn
from gourmet.problems import ServiceUnavailable
from gourmet.telemetry import metrics

Kind = Literal[
    "refund", "email", "sms", "settle", "print"
]  # the outbox_kind_check constraint's list
# Why a job ended failed: the other side's final answer, or the retry policy ran out.
FailedHow = Literal["refused", "exhausted"]
CLAIM_BATCH = 20
ERROR_CHARS = 500  # of last_error; a log line carries less
LOG_ERROR_CHARS = 200
log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    id: int
    kind: Kind
    event_key: str
    order_id: int | None
    payload: dict[str, Any]
    attempts: int  # this try included


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job given up for good, as staff see it."""

    id: int
    kind: Kind
    event_key: str
    order: int | None  # the order's number
    attempts: int
    last_error: str | None
    created_at: datetime
    failed_at: datetime | None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When a job that failed for now is tried again, and when trying stops: the delay doubles
    from ``first_delay_s`` up to ``max_delay_s``, jittered down by up to half so that jobs that
    failed together (a provider outage) do not come back together; after ``max_attempts``
    tries the job is failed ("exhausted"). The app's limit is
    GOURMET_NOTIFICATIONS__OUTBOX_MAX_ATTEMPTS; None (tried until done) is for a worker a test
    drives by hand."""

    max_attempts: int | None = None
    first_delay_s: float = 2.0
    max_delay_s: float = 300.0

    def delay_s(self, attempts: int, rng: random.Random) -> float:
        doubled = self.first_delay_s * 2.0 ** max(attempts - 1, 0)
        return float(min(doubled, self.max_delay_s) * rng.uniform(0.5, 1.0))


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


@dataclass(frozen=True, slots=True)
class FailedJobs:
    total: int  # failed jobs in all; ``jobs`` holds the latest of them
    jobs: list[FailedJob]


async def failed_jobs(conn: Conn, limit: int) -> FailedJobs:
    """The jobs given up, the latest first, and how many there are."""
    rows = await (
        await conn.execute(
            "SELECT id, kind, event_key, order_id AS order, attempts, last_error, created_at,"
            " done_at AS failed_at, count(*) OVER () AS total FROM outbox"
            " WHERE state = 'failed' ORDER BY done_at DESC NULLS LAST, id DESC LIMIT %s",
            (limit,),
        )
    ).fetchall()
    total = rows[0]["total"] if rows else 0
    return FailedJobs(
        total, [FailedJob(**{k: v for k, v in row.items() if k != "total"}) for row in rows]
    )


async def _retry_later(conn: Conn, job: Job, error: str, delay_s: float) -> bool:
    cursor = await conn.execute(
        "UPDATE outbox SET due_at = now() + make_interval(secs => %s), last_error = %s"
        " WHERE id = %s AND state = 'pending'",
        (delay_s, error[:ERROR_CHARS], job.id),
    )
    return cursor.rowcount == 1


async def _give_up(conn: Conn, job: Job, error: str) -> bool:
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'failed', done_at = now(), last_error = %s"
        " WHERE id = %s AND state = 'pending'",
        (error[:ERROR_CHARS], job.id),
    )
    return cursor.rowcount == 1


class OutboxWorker:
    """Runs the outbox's jobs with ``handlers`` (by kind), and ``chores`` (periodic work, such as
    expiring unpaid orders) on each round. A handler marks its job done in the transaction that
    records the outcome (so the outcome and "done" commit together), raises
    :class:`RetryLater` or :class:`GiveUp`; anything else it raises is a bug, logged (with its
    traceback on the first try only), and tried again like a transient failure. Nothing stops
    the loop but cancellation."""

    def __init__(
        self,
        pool: GuardedPool,
        handlers: Mapping[str, Handler],
        *,
        every_s: float,
        lease_s: float,
        retry: RetryPolicy | None = None,
        chores: tuple[Callable[[], Awaitable[object]], ...] = (),
        rng: random.Random | None = None,
    ) -> None:
        self._pool = pool
        self._handlers = dict(handlers)
        self._every_s = every_s
        self._lease_s = lease_s
        self._retry = retry or RetryPolicy()
        self._chores = chores
        self._rng = rng or random.Random()
        self.wake = asyncio.Event()  # set to run a round at once (tests, a fresh job)
        # Each series from 0, so that the first failure after a start is an increase to the
        # alert (Prometheus sees no increase in a series that appears at 1).
        for kind in self._handlers:
            for how in get_args(FailedHow):
                metrics.OUTBOX_JOBS_FAILED.labels(kind=kind, outcome=how)

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
        # structlog's first parameter is named ``event``: the job's key is logged as ``job``.
        try:
            await self._handlers[job.kind](job)
        except GiveUp as exc:
            await self._fail(job, "refused", str(exc))
        except RetryLater as exc:
            await self._try_again(job, str(exc), "retry")
        except Exception as exc:  # a bug: its traceback once, then tried again like RetryLater
            log.error(
                "outbox_job_error",
                kind=job.kind,
                job=job.event_key,
                attempts=job.attempts,
                error=repr(exc)[:LOG_ERROR_CHARS],
                exc_info=job.attempts == 1,
            )
            await self._try_again(job, repr(exc), "error")
        else:
            metrics.OUTBOX_JOBS.labels(kind=job.kind, outcome="done").inc()

    async def _try_again(self, job: Job, error: str, outcome: str) -> None:
        limit = self._retry.max_attempts
        if limit is not None and job.attempts >= limit:
            await self._fail(job, "exhausted", f"gave up after {job.attempts} attempts: {error}")
            return
        metrics.OUTBOX_JOBS.labels(kind=job.kind, outcome=outcome).inc()
        delay_s = self._retry.delay_s(job.attempts, self._rng)
        if outcome == "retry":
            log.info(
                "outbox_job_retry",
                kind=job.kind,
                job=job.event_key,
                attempts=job.attempts,
                retry_in_s=round(delay_s, 1),
                error=error[:LOG_ERROR_CHARS],
            )
        await self._settle(job, _retry_later, error, delay_s)

    async def _fail(self, job: Job, how: FailedHow, reason: str) -> None:
        metrics.OUTBOX_JOBS.labels(kind=job.kind, outcome="failed").inc()
        if not await self._settle(job, _give_up, reason):
            return  # settled by another worker, or left to the lease (and the next try)
        metrics.OUTBOX_JOBS_FAILED.labels(kind=job.kind, outcome=how).inc()
        log.error(
            "outbox_job_failed",
            kind=job.kind,
            job=job.event_key,
            order=job.order_id,
            attempts=job.attempts,
            outcome=how,
            error=reason[:LOG_ERROR_CHARS],
        )

    async def _settle(self, job: Job, how: Callable[..., Awaitable[bool]], *args: Any) -> bool:
        """Record the try's outcome; False when not recorded (the lease hands the job on)."""
        try:
            async with self._pool.connection() as conn:
                return await how(conn, job, *args)
        except (ServiceUnavailable, psycopg.Error) as exc:
            log.warning("outbox_job_not_settled", job=job.event_key, error=str(exc))
            return False

    async def run(self) -> None:
        """Run forever: a round every ``every_s`` (or at once when woken)."""
        while True:
            try:
                await self.run_once()
            except (ServiceUnavailable, psycopg.Error) as exc:  # the next round tries again
                log.warning("outbox_round_failed", error=str(exc))
            except Exception:  # a bug: logged, never the end of the worker
                log.exception("outbox_round_error")
            stop_if_cancelled()  # a cancellation that came back as a database error
            self.wake.clear()
            jitter = self._every_s * self._rng.uniform(0.8, 1.2)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), jitter)
