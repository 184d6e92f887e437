"""Leak detection: a connection held too long is reported with where it was taken.

A leaked or hogged connection is how pool exhaustion starts quietly. Each lease records its start
and the caller's frame; a watchdog task reports every lease older than the threshold once, with
the stack that took it, and counts it for the metrics.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

import structlog

from gourmet.telemetry import metrics

log = structlog.get_logger(__name__)

# Frames of these modules are plumbing; the report starts at the first frame outside them.
_PLUMBING = ("contextlib", "gourmet/db/pool.py", "gourmet/db/leaks.py")


Where = tuple[tuple[str, int, str], ...]


@dataclass
class _Lease:
    started: float
    taken_at: Where
    reported: bool = False


class LeaseTracker:
    def __init__(self, threshold_s: float) -> None:
        self.threshold_s = threshold_s
        self.leaks_detected = 0
        self._leases: dict[int, _Lease] = {}

    @contextmanager
    def lease(self, conn: object) -> Iterator[None]:
        self._leases[id(conn)] = _Lease(time.monotonic(), _caller_chain())
        try:
            yield
        finally:
            self._leases.pop(id(conn), None)

    def overdue(self, now: float | None = None) -> list[tuple[float, str]]:
        """Report (age, where taken) of leases past the threshold not reported before."""
        now = time.monotonic() if now is None else now
        found = []
        for lease in self._leases.values():
            if not lease.reported and now - lease.started > self.threshold_s:
                lease.reported = True
                self.leaks_detected += 1
                metrics.POOL_LEAKS.inc()
                found.append((now - lease.started, _describe(lease.taken_at)))
        return found

    async def watch(self) -> None:
        """Run forever, checking twice per threshold."""
        while True:
            await asyncio.sleep(self.threshold_s / 2)
            for age, where in self.overdue():
                log.warning("connection_held_too_long", held_s=round(age, 2), taken_at=where)


def _caller_chain(depth: int = 12) -> Where:
    """(file, line, function) of the callers, innermost first. Walking ``f_back`` costs a few
    microseconds, unlike formatting a traceback, so every lease can afford it; while a coroutine
    runs, its frame's ``f_back`` is the coroutine awaiting it, so the chain reaches the handler."""
    chain: list[tuple[str, int, str]] = []
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and len(chain) < depth:
        code = frame.f_code
        if not any(part in code.co_filename for part in _PLUMBING):
            chain.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    return tuple(chain)


def _describe(chain: Where) -> str:
    return " <- ".join(f"{file.rpartition('/')[2]}:{line} {name}" for file, line, name in chain[:4])
