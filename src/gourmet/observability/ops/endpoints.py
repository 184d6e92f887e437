"""The ops page's data: 15 minutes of this worker's figures and the alerts firing (staff)."""

from __future__ import annotations

import os
from typing import Any

from litestar import Router, get
from litestar.di import NamedDependency
from litestar.types import ControllerRouterHandler

from gourmet.accounts.guards import require_staff
from gourmet.observability.ops.alerts import firing
from gourmet.observability.ops.timeseries import Recorder
from gourmet.observability.status.service import StatusBoard


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


ROUTES: list[ControllerRouterHandler] = [
    Router(path="/api/ops", route_handlers=[ops_series], guards=[require_staff]),
]
