"""The alerts of deploy/prometheus/rules.yml, evaluated in-process for the ops page.

Thresholds match the Prometheus rules so that the page and the pager agree; windows are shorter
(this process keeps 15 minutes), so the page is the quick look and Prometheus the authority.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gourmet.observability.ops.timeseries import Point

POOL_SATURATION = 0.9  # in use / size
SHED_RATIO = 0.01  # shed / all requests
ERROR_RATIO = 0.005  # 5xx (not shed) / all requests: the 99.5% availability objective
SUSTAINED_POINTS = 3  # 15 s at 5 s a point


@dataclass(frozen=True)
class Alert:
    name: str
    severity: str
    summary: str
    runbook: str


def firing(points: Sequence[Point]) -> list[Alert]:
    recent = list(points)[-SUSTAINED_POINTS:]
    if not recent:
        return []
    alerts: list[Alert] = []

    def sustained(check: Callable[[Point], object]) -> bool:
        return len(recent) == SUSTAINED_POINTS and all(check(p) for p in recent)

    if not recent[-1].database_up:
        alerts.append(
            Alert(
                "DatabaseDown",
                "page",
                "The database cannot be reached.",
                "docs/runbooks/database-down.md",
            )
        )
    if sustained(lambda p: p.pool_waiting > 0):
        alerts.append(
            Alert(
                "DbPoolExhausted",
                "page",
                "Requests are queueing for connections.",
                "docs/runbooks/connection-pool-exhaustion.md",
            )
        )
    if sustained(lambda p: p.pool_max and p.pool_in_use / p.pool_max > POOL_SATURATION):
        alerts.append(
            Alert(
                "DbPoolSaturated",
                "warning",
                f"Over {POOL_SATURATION:.0%} of the pool is in use.",
                "docs/runbooks/connection-pool-saturation.md",
            )
        )
    if sustained(lambda p: p.requests_per_s and p.shed_per_s / p.requests_per_s > SHED_RATIO):
        alerts.append(
            Alert(
                "RequestsShed",
                "warning",
                f"Over {SHED_RATIO:.0%} of requests are turned away.",
                "docs/runbooks/load-shedding.md",
            )
        )
    if sustained(lambda p: p.requests_per_s and p.errors_per_s / p.requests_per_s > ERROR_RATIO):
        alerts.append(
            Alert(
                "CheckoutAvailabilityBurnFast",
                "page",
                "Server errors above the error budget.",
                "docs/runbooks/checkout-availability-burn-fast.md",
            )
        )
    return alerts
