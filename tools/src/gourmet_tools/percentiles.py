"""The one percentile every tool reports: nearest rank.

The p-th percentile of n values is the value at rank ceil(p/100 * n) of the sorted values (at
least rank 1). Nearest rank, not linear interpolation, because:

* every figure is a latency some request or customer actually had, never a blend of two;
* a failed request counts as infinitely slow (``loadstats.bucket_p99``): interpolating between
  a finite value and infinity gives infinity or NaN, where nearest rank says exactly whether at
  least p% of the values are below a threshold;
* it is what wrk and most load tools report, so the benchmarks' own and wrk's figures compare.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def percentile(values: Iterable[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (``p`` in [0, 100]) of ``values``; NaN when there
    are none (JSON and the reports show it as "-")."""
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} is outside [0, 100]")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    # p * n before the division: 7 / 100 * 100 is 7.000000000000001, whose ceiling is 8.
    rank = max(math.ceil(p * len(ordered) / 100), 1)
    return ordered[rank - 1]


def known(value: float) -> float | None:
    """``value``, or None when it is NaN (no values): for figures read as "none yet"."""
    return None if math.isnan(value) else value
