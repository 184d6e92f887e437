"""One run: customers arriving in a shape against a server, the server probed meanwhile, and
the figures that count for customers, read from what they saw and, when the database is at
hand, from what it holds."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from gourmet_tools.loadtest.customers import (
    Customer,
    audit,
    population,
    run_population,
)
from gourmet_tools.loadtest.menu_orders import checkout_bodies
from gourmet_tools.loadtest.probe import Probe, Sample, first_alert_after, status_changes
from gourmet_tools.loadtest.shapes import Shape
from gourmet_tools.percentiles import known, percentile

Progress = Callable[[float, list[Customer]], None]
PROGRESS_EVERY_S = 1.0
RECOVERED_WAIT_S = 2.0  # recovered: every later customer's order confirmed within this long
PROBE_TAIL_S = 3.0


@dataclass
class RunResult:
    label: str
    shape: Shape
    customers: list[Customer]
    samples: list[Sample]
    figures: dict[str, Any] = field(default_factory=dict)


def run_shape(
    label: str,
    base: str,
    shape: Shape,
    *,
    patience_s: float,
    staff_token: str | None = None,
    database_url: str | None = None,
    spike_prefix: str | None = None,
    progress: Progress | None = None,
    old_page: bool = False,
) -> RunResult:
    """Offer ``shape`` to the server at ``base``; the database (when given) is audited after.
    ``progress`` is called about once a second with the time and the customers so far;
    ``old_page``: customers use the old platform's checkout page (no key, reloads)."""
    with httpx.Client(base_url=base, timeout=10) as client:
        bodies = checkout_bodies(client)
    tag = f"{label}-{int(time.time())}"
    customers = population(bodies, shape.phases, tag)
    probe = Probe(base, staff_token)
    elapsed = asyncio.run(_run(base, customers, patience_s, probe, progress, old_page))
    if database_url is not None:
        figures = audit(database_url, tag, customers, patience_s)
    else:
        figures = client_side(customers, patience_s)
    figures.update(timeline_figures(shape, customers, probe.samples, spike_prefix))
    figures["run_s"] = elapsed
    figures["offered_customers_per_s"] = len(customers) / shape.duration_s
    return RunResult(label, shape, customers, probe.samples, figures)


async def _run(
    base: str,
    customers: list[Customer],
    patience_s: float,
    probe: Probe,
    progress: Progress | None,
    old_page: bool,
) -> float:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    # The customers' clock starts half a second from now (run_population): so does the probe's.
    start = loop.time() + 0.5
    watchers = [asyncio.create_task(probe.run(start, stop))]
    if progress is not None:
        watchers.append(asyncio.create_task(_report_progress(progress, customers, start, stop)))
    elapsed, _opened = await run_population(base, customers, patience_s, old_page=old_page)
    await asyncio.sleep(PROBE_TAIL_S)
    stop.set()
    await asyncio.gather(*watchers)
    return elapsed


async def _report_progress(
    progress: Progress, customers: list[Customer], start: float, stop: asyncio.Event
) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        progress(loop.time() - start, customers)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), PROGRESS_EVERY_S)


def client_side(customers: list[Customer], patience_s: float) -> dict[str, Any]:
    """What the customers saw, without the database (a remote target): no audit."""
    waits = [c.acknowledged_s - c.arrives_s for c in customers if c.acknowledged_s is not None]
    n = len(customers)
    placed = sum(1 for c in customers if c.token is not None)
    return {
        "customers": n,
        "placed_within_patience": placed,
        "placed_share": placed / n if n else 0.0,
        "gave_up": sum(1 for c in customers if c.token is None and c.refused is None),
        "refused_4xx": sum(1 for c in customers if c.refused is not None),
        "wait_p50_s": known(percentile(waits, 50)),
        "wait_p99_s": known(percentile(waits, 99)),
        "lost": None,
        "duplicated": None,
        "unacknowledged": None,
        "patience_s": patience_s,
    }


def timeline_figures(
    shape: Shape, customers: list[Customer], samples: list[Sample], spike_prefix: str | None
) -> dict[str, Any]:
    answers = [status for c in customers for _, status in c.answers]
    # A 503 says "busy" or "in line" with a time to come back: a customer's wait, counted on
    # its own. An error is any other 5xx, or no answer at all.
    failed = sum(1 for status in answers if (status >= 500 and status != 503) or status < 0)
    busy = sum(1 for status in answers if status == 503)
    latencies = [latency for c in customers for latency in c.latencies]
    figures: dict[str, Any] = {
        "attempts": len(answers),
        "attempt_p99_ms": (known(percentile(latencies, 99)) or 0.0) * 1000,
        "error_rate": failed / len(answers) if answers else 0.0,
        "busy_rate": busy / len(answers) if answers else 0.0,
        "answers_by_status": dict(Counter(answers)),
        "pool_waiting_max": max((s.pool_waiting for s in samples), default=0.0),
        "placed_per_s_peak": max(per_second(customers, _acknowledged), default=0),
    }
    if spike_prefix is not None:
        start, end = shape.window(spike_prefix)
        alert = first_alert_after(samples, start)
        figures["first_alert_s"] = alert[0] if alert else None
        figures["first_alert"] = alert[1] if alert else None
        figures["recovery_s"] = recovery_after(customers, end)
        figures["status_degraded_s"], figures["status_operational_s"] = status_changes(
            samples, start, end
        )
        figures["backlog_cleared_s"] = backlog_cleared_after(customers, end)
    return figures


def backlog_cleared_after(customers: list[Customer], t: float) -> float | None:
    """Seconds after ``t`` (the spike's end) until every customer who had arrived by then had
    their order or gave up: how long the spike's line outlived it. Defined when the arrivals
    stop before the line is gone, where recovery (newcomers served at once) cannot be seen."""
    ended = [
        customer.acknowledged_s if customer.acknowledged_s is not None else _last_heard(customer)
        for customer in customers
        if customer.arrives_s <= t
    ]
    return max(max(ended) - t, 0.0) if ended else None


def recovery_after(customers: list[Customer], t: float) -> float | None:
    """Seconds after ``t`` from which every arriving customer had their order confirmed within
    RECOVERED_WAIT_S; None if the run ended before that."""
    later = sorted((c for c in customers if c.arrives_s >= t), key=lambda c: c.arrives_s)
    recovered_from = None
    for customer in later:
        confirmed = customer.acknowledged_s
        if confirmed is not None and confirmed - customer.arrives_s <= RECOVERED_WAIT_S:
            if recovered_from is None:
                recovered_from = customer.arrives_s
        else:
            recovered_from = None
    return None if recovered_from is None else max(recovered_from - t, 0.0)


def _last_heard(customer: Customer) -> float:
    """When a customer without an order stopped: their last answer (they gave up after it)."""
    return customer.answers[-1][0] if customer.answers else customer.arrives_s


def _acknowledged(customer: Customer) -> list[float]:
    return [] if customer.acknowledged_s is None else [customer.acknowledged_s]


def per_second(customers: list[Customer], times: Callable[[Customer], list[float]]) -> list[int]:
    """How many of ``times(customer)`` fall in each second of the run."""
    buckets: Counter[int] = Counter(
        math.floor(t) for customer in customers for t in times(customer)
    )
    if not buckets:
        return []
    return [buckets.get(second, 0) for second in range(max(buckets) + 1)]
