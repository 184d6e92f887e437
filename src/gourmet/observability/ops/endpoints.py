"""The ops page's data: 15 minutes of this worker's figures, the alerts firing, and the outbox's
failed jobs (staff)."""

from __future__ import annotations

import os
from typing import Any

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import require_staff
from gourmet.db.pool import GuardedPool
from gourmet.observability.ops.alerts import firing
from gourmet.observability.ops.timeseries import Recorder
from gourmet.observability.status.service import StatusBoard
from gourmet.ordering.notifications.outbox import FailedJobs, failed_jobs

FAILED_JOBS_SHOWN = 100  # the latest; the answer says how many there are in all


@get("/series", summary="The ops page's data: 15 minutes of this worker's figures, alerts")
async def ops_series(
    recorder: NamedDependency[Recorder], status_board: NamedDependency[StatusBoard]
) -> dict[str, Any]:
    return {
        "worker_pid": os.getpid(),
        "series": recorder.series(),
        "alerts": [alert.__dict__ for alert in firing(recorder.points)],
        "status": status_board.feed(),
    }


@get("/failed-jobs", summary="Outbox jobs given up for good (refunds, emails), the latest first")
async def list_failed_jobs(pool: NamedDependency[GuardedPool]) -> FailedJobs:
    async with pool.connection() as conn:
        return await failed_jobs(conn, FAILED_JOBS_SHOWN)


ROUTES: list[ControllerRouterHandler] = [
    Router(path="/api/ops", route_handlers=[ops_series, list_failed_jobs], guards=[require_staff]),
]
