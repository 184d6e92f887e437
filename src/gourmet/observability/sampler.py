"""Copies the figures of the pool, the limiter and the menu cache into metrics, every second.

Each worker samples its own objects; in multiprocess mode the gauges are combined across workers
when ``/metrics`` is scraped. Counters kept by components that know nothing of Prometheus (the
admission middleware, psycopg_pool) are turned into Prometheus counters by their increments.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from gourmet.db.pool import GuardedPool
from gourmet.menu.service import MenuCache
from gourmet.observability.status.service import StatusBoard
from gourmet.ordering.tracking.book import OrderBook
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.limiter import AdaptiveLimiter
from gourmet.telemetry import metrics

SAMPLE_EVERY_S = 1.0
log = structlog.get_logger(__name__)


class Sampler:
    def __init__(
        self,
        pool: GuardedPool,
        menu_cache: MenuCache,
        limiter: AdaptiveLimiter | None,
        admission: AdmissionMiddleware | None,
        status_board: StatusBoard | None = None,
        order_book: OrderBook | None = None,
    ) -> None:
        self.order_book = order_book
        self.status_board = status_board
        self.pool = pool
        self.menu_cache = menu_cache
        self.limiter = limiter
        self.admission = admission
        self._seen: dict[str, float] = {}

    def sample(self) -> None:
        if self.status_board is not None:
            self.status_board.observe()
        stats = self.pool.stats()
        for name, value in stats.items():
            metrics.POOL_STAT.labels(name).set(value)
        metrics.POOL_CONNECTIONS.labels("in_use").set(stats["in_use"])
        metrics.POOL_CONNECTIONS.labels("idle").set(stats["idle"])
        metrics.POOL_MAX.set(stats.get("pool_max", 0))
        metrics.POOL_WAITING.set(stats["waiting"])
        metrics.DB_UP.set(stats["database_up"])
        self._count(
            metrics.DB_CONNECTIONS_LOST, "connections_lost", stats.get("connections_lost", 0)
        )
        cached = self.menu_cache.current
        if cached is not None:
            metrics.MENU_CACHE_AGE.set(time.monotonic() - cached.loaded_at)
        self._count(metrics.MENU_CACHE_RELOADS, "menu_reloads", self.menu_cache.reloads)
        if self.order_book is not None:
            metrics.ORDER_VIEWS_HELD.set(len(self.order_book))
            reads = metrics.ORDER_VIEW_READS
            self._count(reads.labels("memory"), "order_view_hits", self.order_book.hits)
            self._count(reads.labels("database"), "order_view_reads", self.order_book.reads)
        if self.limiter is not None:
            metrics.ADMISSION_LIMIT.set(self.limiter.limit)
            metrics.ADMISSION_IN_FLIGHT.set(self.limiter.in_flight)
            self._count(metrics.ADMISSION_WAITED, "admission_waited", self.limiter.waited)
        if self.admission is not None and self.admission.room is not None:
            room = self.admission.room
            metrics.WAITING_ROOM_WAITING.set(len(room))
            metrics.WAITING_ROOM_AWAY.set(room.away)
            for outcome, total in room.outcomes().items():
                labelled = metrics.WAITING_ROOM_OUTCOMES.labels(outcome)
                self._count(labelled, f"room_{outcome}", total)
        if self.admission is not None:
            shed_now = {
                priority.value: self._count(
                    metrics.ADMISSION_SHED.labels(priority.value), f"shed_{priority}", shed
                )
                for priority, shed in self.admission.shed.items()
            }
            if any(shed_now.values()):
                log.warning(
                    "requests_shed",
                    since_last_sample=shed_now,
                    limit=self.limiter.limit if self.limiter else None,
                )

    def _count(self, counter: Any, key: str, total: float) -> float:
        """Advance ``counter`` by how much ``total`` grew since the last sample; return that."""
        grown = total - self._seen.get(key, 0)
        if grown > 0:
            counter.inc(grown)
        self._seen[key] = total
        return max(grown, 0)

    async def run(self) -> None:
        while True:
            self.sample()
            await asyncio.sleep(SAMPLE_EVERY_S)
