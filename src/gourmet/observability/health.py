"""Liveness and readiness, as Kubernetes expects them, and the Prometheus metrics page."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

from litestar import Response, get
from litestar.di import NamedDependency

from gourmet.db.health import answer_within
from gourmet.db.pool import GuardedPool
from gourmet.telemetry import metrics

READINESS_TIMEOUT_S = 1.0


# What `gourmet serve` tells its workers (cli/serve.py): the server is stopping (draining), or
# this worker is being replaced by a reload.
DRAIN_SIGNAL = signal.SIGUSR1
# Where a worker says its app has started (a file named by its pid), so a reload stops the old
# worker only once the new one serves.
READY_DIR_VARIABLE = "SERVE_READY_DIR"
REPLACE_SIGNAL = signal.SIGUSR2


@dataclass
class Lifecycle:
    """Where the process is in its life.

    ``draining``: the server was told to stop (or this process shuts down): readiness turns
    away new traffic while requests are still served. ``replacing``: a reload replaces this
    worker, the server goes on. In both, responses close their keep-alive connections
    (``closing_connections``), so clients move to a connection that will still be there."""

    draining: bool = False
    replacing: bool = False

    @property
    def closing_connections(self) -> bool:
        return self.draining or self.replacing

    def listen(self) -> None:
        """Hear the server's notices. Only a loop in the main thread can (a worker's is; an app
        run by a test in a thread of its own hears nothing, and no server sends it any)."""
        if threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(DRAIN_SIGNAL, setattr, self, "draining", True)
        loop.add_signal_handler(REPLACE_SIGNAL, setattr, self, "replacing", True)


PARENT_CHECK_S = 1.0


def say_ready() -> None:
    """Tell the server this worker's app has started (when a server is listening for it)."""
    if ready_dir := os.environ.get(READY_DIR_VARIABLE):
        (Path(ready_dir) / str(os.getpid())).touch()


async def leave_with_parent() -> None:
    """Stop this worker (as SIGTERM would) once the server process that started it is gone:
    a server killed outright must not leave orphan workers serving on its port. (A process
    not started by multiprocessing, a test's, has no such parent and returns at once.)"""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    # The pid multiprocessing recorded at spawn: a parent that died before this task started
    # is noticed too (os.getppid() is then already another process's).
    while os.getppid() == parent.pid:  # noqa: ASYNC110 - another process's life, no event
        await asyncio.sleep(PARENT_CHECK_S)
    os.kill(os.getpid(), signal.SIGTERM)


@get("/healthz", summary="Liveness: the process answers", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", summary="Readiness: the database answers quickly and we are not draining")
async def readyz(
    lifecycle: NamedDependency[Lifecycle], pool: NamedDependency[GuardedPool]
) -> Response[dict[str, str]]:
    if lifecycle.draining:
        return Response({"status": "unavailable", "reason": "draining"}, status_code=503)
    if not pool.health.up:
        return Response({"status": "unavailable", "reason": "database down"}, status_code=503)
    try:
        # Within the second, whatever the database does: a frozen one is not waited for.
        await answer_within(_select_one(pool), READINESS_TIMEOUT_S)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return Response({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return Response({"status": "ready"})


async def _select_one(pool: GuardedPool) -> None:
    async with pool.pool.connection(timeout=READINESS_TIMEOUT_S) as conn:
        await conn.execute("SELECT 1")


@get("/metrics", summary="Prometheus metrics", include_in_schema=False, sync_to_thread=False)
def metrics_page() -> Response[bytes]:
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


ROUTES = [healthz, readyz, metrics_page]
