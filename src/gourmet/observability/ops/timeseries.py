"""The last 15 minutes of this process's vital signs, for the ops page.

Every few seconds the recorder reads the Prometheus metrics of this process (counters and the
latency histogram), turns their growth since the last point into rates and quantiles, and keeps
a fixed number of points. With several workers each process keeps its own series (the page says
which); Prometheus and the Grafana dashboard see them all together.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from prometheus_client import Counter, Histogram

from gourmet.db.pool import GuardedPool
from gourmet.telemetry import metrics

INTERVAL_S = 5.0
WINDOW_S = 15 * 60


@dataclass(frozen=True)
class Point:
    at: float  # unix time
    requests_per_s: float
    errors_per_s: float  # 5xx answers other than shedding
    shed_per_s: float
    p50_ms: float | None
    p99_ms: float | None
    pool_in_use: int
    pool_waiting: int
    pool_max: int
    orders_per_min: float
    database_up: bool


@dataclass(frozen=True)
class _Totals:
    requests: float
    errors: float
    shed: float
    orders: float
    buckets: tuple[tuple[float, float], ...]  # (upper bound, cumulative count)


def _sum(counter: Counter, keep: Callable[[dict[str, str]], bool] = lambda _: True) -> float:
    return sum(
        s.value
        for family in counter.collect()
        for s in family.samples
        if s.name.endswith("_total") and keep(s.labels)
    )


def _buckets(histogram: Histogram) -> tuple[tuple[float, float], ...]:
    merged: dict[float, float] = {}
    for family in histogram.collect():
        for s in family.samples:
            if s.name.endswith("_bucket"):
                bound = float(s.labels["le"])
                merged[bound] = merged.get(bound, 0.0) + s.value
    return tuple(sorted(merged.items()))


def _quantile(q: float, start: _Totals, end: _Totals) -> float | None:
    """The q-quantile of the latencies observed between two readings, in ms (bucket bound)."""
    grown = [
        (bound, end_count - dict(start.buckets).get(bound, 0.0)) for bound, end_count in end.buckets
    ]
    total = grown[-1][1] if grown else 0.0
    if total <= 0:
        return None
    for bound, count in grown:
        if count >= q * total:
            return bound * 1000 if bound != float("inf") else None
    return None


class Recorder:
    def __init__(self, pool: GuardedPool, clock: Callable[[], float] = time.time) -> None:
        self._pool = pool
        self._clock = clock
        self.points: deque[Point] = deque(maxlen=int(WINDOW_S / INTERVAL_S))
        self._last: tuple[float, _Totals] | None = None

    def _totals(self) -> _Totals:
        return _Totals(
            requests=_sum(metrics.HTTP_REQUESTS),
            errors=_sum(
                metrics.HTTP_REQUESTS,
                lambda labels: labels["status"].startswith("5") and labels["status"] != "503",
            ),
            shed=_sum(metrics.HTTP_REQUESTS, lambda labels: labels["status"] == "503"),
            orders=_sum(metrics.ORDERS_PLACED),
            buckets=_buckets(metrics.HTTP_LATENCY),
        )

    def record(self) -> Point | None:
        now, totals = self._clock(), self._totals()
        previous, self._last = self._last, (now, totals)
        if previous is None or now <= previous[0]:
            return None
        span = now - previous[0]
        before = previous[1]
        stats = self._pool.stats()
        point = Point(
            at=now,
            requests_per_s=(totals.requests - before.requests) / span,
            errors_per_s=(totals.errors - before.errors) / span,
            shed_per_s=(totals.shed - before.shed) / span,
            p50_ms=_quantile(0.5, before, totals),
            p99_ms=_quantile(0.99, before, totals),
            pool_in_use=stats["in_use"],
            pool_waiting=stats["waiting"],
            pool_max=stats.get("pool_max", 0),
            orders_per_min=(totals.orders - before.orders) / span * 60,
            database_up=bool(stats["database_up"]),
        )
        self.points.append(point)
        return point

    def series(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in self.points]

    async def run(self) -> None:
        while True:
            self.record()
            await asyncio.sleep(INTERVAL_S)
