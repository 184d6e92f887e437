"""The waits of an ideal first-come-first-served queue: what the replay's measured waits are
held against.

The model: one line, one server that completes an order every ``1 / capacity`` seconds (the
checkout capacity measured before the run), customers served strictly in order of arrival,
nobody giving up, no time lost between one order and the next. A customer's wait runs from
their arrival to their order's completion, their own service included.

Why: it is the best any platform could do with that capacity and those arrivals, so it is
what the measured waits are held against (issue 21: at most 1.25x). It is a lower bound for a
platform that places at most ``capacity`` orders per second, with two caveats: a platform that
serves someone other than the first in line can have a lower median (and a worse tail), and
one that places faster under load than the capacity probe measured can beat it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from gourmet_tools.percentiles import known, percentile


def fcfs_waits(arrivals: Iterable[float], capacity_per_s: float) -> list[float]:
    """Each customer's wait (arrival to completion) in the ideal queue, in order of arrival;
    ``arrivals`` in seconds, in any order."""
    if capacity_per_s <= 0:
        raise ValueError(f"capacity {capacity_per_s}/s: an ideal queue needs a positive one")
    service_s = 1 / capacity_per_s
    free_at = -math.inf  # when the server is next free: idle before the first arrival
    waits = []
    for arrives in sorted(arrivals):
        free_at = max(arrives, free_at) + service_s
        waits.append(free_at - arrives)
    return waits


def ideal_waits(arrivals: Iterable[float], capacity_per_s: float) -> tuple[float, float]:
    """The ideal queue's wait p50 and p99 (NaN without arrivals)."""
    waits = fcfs_waits(arrivals, capacity_per_s)
    return percentile(waits, 50), percentile(waits, 99)


def beside_measured(
    figures: Mapping[str, Any], arrivals: Iterable[float], capacity_per_s: float
) -> dict[str, float | None]:
    """The ideal queue's p50 and p99 for ``arrivals`` and the measured waits' ratio to them
    (``figures``' ``wait_p50_s`` and ``wait_p99_s``)."""
    p50, p99 = ideal_waits(arrivals, capacity_per_s)
    return {
        "ideal_wait_p50_s": known(p50),
        "ideal_wait_p99_s": known(p99),
        "wait_vs_ideal_p50": _ratio(figures.get("wait_p50_s"), p50),
        "wait_vs_ideal_p99": _ratio(figures.get("wait_p99_s"), p99),
    }


def _ratio(measured: float | None, ideal: float) -> float | None:
    # The ideal wait is at least one service time, never 0; NaN (no arrivals) gives None.
    if measured is None or known(ideal) is None:
        return None
    return measured / ideal
