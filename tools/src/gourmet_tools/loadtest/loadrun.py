"""The record of one open-model run: its phases, and what happened to every request.

The driver (``openload.py``) writes it; the statistics (``loadstats.py``) read it; neither imports
the other's module for it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

# Outcomes that are not HTTP statuses (kept in the same column as the status code).
TIMEOUT = -1  # no complete response within the client timeout
CONN_ERROR = -2  # connect refused or reset, connection closed mid-response
MISS = -3  # every allowed connection was busy: the request was never sent
PENDING = 0
OUTCOME_NAMES = {TIMEOUT: "timeout", CONN_ERROR: "connection error", MISS: "client miss"}


@dataclass(frozen=True, slots=True)
class Phase:
    """``duration_s`` seconds of arrivals at ``rate`` per second."""

    name: str
    rate: float
    duration_s: float


@dataclass
class Run:
    """Everything one run recorded; times are seconds from the run's start, latencies seconds.

    Row ``i`` is one request: ``intended[i]`` (its scheduled send time), ``sent[i]`` (when the
    driver actually dispatched it), ``status[i]`` (HTTP status or an outcome above) and
    ``latency[i]`` (from the intended time to the end of the response; NaN without one).
    """

    phases: list[Phase]
    kinds: list[str]
    intended: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)
    status: list[int] = field(default_factory=list)
    latency: list[float] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    connections_opened: int = 0
    peak_connections: int = 0

    def phase_window(self, name: str) -> tuple[float, float]:
        start = 0.0
        for phase in self.phases:
            if phase.name == name:
                return start, start + phase.duration_s
            start += phase.duration_s
        raise KeyError(name)

    def rows(self, start: float, end: float) -> range:
        """Indices of the requests intended in ``[start, end)`` (rows are in intended order)."""
        first = bisect.bisect_left(self.intended, start)
        return range(first, bisect.bisect_left(self.intended, end))
