"""What the server says about itself during a run, once a second: its pool, its line, what it
refused and placed (from ``/metrics``), the alerts it finds firing (``/api/ops/series``,
evaluated in the process with the Prometheus rules' thresholds; staff token needed), and what
its public status page says (``/api/status``: operational, degraded...)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import httpx
from prometheus_client.parser import text_string_to_metric_families

PROBE_EVERY_S = 1.0


@dataclass
class Sample:
    t: float  # seconds from the run's start
    pool_in_use: float = 0.0
    pool_waiting: float = 0.0
    waiting_room: float = 0.0
    shed_total: float = 0.0
    orders_placed_total: float = 0.0
    http_5xx_total: float = 0.0
    up: bool = True
    alerts: list[str] = field(default_factory=list)
    status: str | None = None  # the status page's overall state; None: no answer


def read_metrics(page: str, sample: Sample) -> None:
    for family in text_string_to_metric_families(page):
        for metric in family.samples:
            name, labels, value = metric.name, metric.labels, metric.value
            if name == "gourmet_db_pool_connections" and labels.get("state") == "in_use":
                sample.pool_in_use = value
            elif name == "gourmet_db_pool_waiting":
                sample.pool_waiting = value
            elif name == "gourmet_waiting_room_waiting":
                sample.waiting_room = value
            elif name == "gourmet_admission_shed_total":
                sample.shed_total += value
            elif name == "gourmet_orders_placed_total":
                sample.orders_placed_total += value
            elif name == "gourmet_http_requests_total" and labels.get("status", "").startswith("5"):
                sample.http_5xx_total += value


class Probe:
    def __init__(self, base: str, staff_token: str | None) -> None:
        self.base = base
        self.staff_token = staff_token
        self.samples: list[Sample] = []

    async def run(self, start: float, stop: asyncio.Event) -> None:
        """Sample every PROBE_EVERY_S from ``start`` (a loop time) until ``stop`` is set."""
        loop = asyncio.get_running_loop()
        headers = {"Authorization": f"Bearer {self.staff_token}"} if self.staff_token else {}
        async with httpx.AsyncClient(base_url=self.base, timeout=2.0) as client:
            while not stop.is_set():
                sample = Sample(t=loop.time() - start)
                await self._sample(client, headers, sample)
                self.samples.append(sample)
                next_at = start + (len(self.samples)) * PROBE_EVERY_S
                with contextlib.suppress(TimeoutError):  # the wait ran out: the next tick
                    await asyncio.wait_for(stop.wait(), max(next_at - loop.time(), 0.0))

    async def _sample(
        self, client: httpx.AsyncClient, headers: dict[str, str], sample: Sample
    ) -> None:
        try:
            read_metrics((await client.get("/metrics")).text, sample)
            status = await client.get("/api/status")
            if status.status_code == 200:
                sample.status = status.json()["overall"]
            if headers:
                series = await client.get("/api/ops/series", headers=headers)
                if series.status_code == 200:
                    sample.alerts = [alert["name"] for alert in series.json()["alerts"]]
        except httpx.HTTPError:
            sample.up = False


def first_alert_after(samples: list[Sample], t: float) -> tuple[float, str] | None:
    """The first alert seen at or after ``t``: when (seconds after ``t``) and which."""
    for sample in samples:
        if sample.t >= t and sample.alerts:
            return sample.t - t, sample.alerts[0]
    return None


def status_changes(
    samples: list[Sample], start: float, end: float
) -> tuple[float | None, float | None]:
    """When the status page turned from operational to something worse, in seconds after
    ``start`` (the surge's beginning), and when it said operational again by itself, in seconds
    after ``end`` (the surge's end); None for what it never did. A page already degraded when
    the surge began (the capacity probe's load, a minute before) is not credited to the surge.
    A status that could not be read says nothing."""
    known, degraded = None, None
    for sample in samples:
        if sample.status is None:
            continue
        if sample.t >= start and sample.status != "operational" and known == "operational":
            degraded = sample.t
            break
        known = sample.status
    if degraded is None:
        return None, None
    back = next(
        (s.t for s in samples if s.t >= max(degraded, end) and s.status == "operational"), None
    )
    return degraded - start, (back - end if back is not None else None)
