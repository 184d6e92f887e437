"""A circuit breaker for the payment provider (``BreakerProvider`` wraps a provider in one).

When the provider fails, every checkout that calls it waits for a timeout before it fails too:
customers wait seconds for nothing, and the provider gets no room to recover. A breaker notices
the failures and, for a cool-down, refuses at once, so checkout can offer pay at pickup instantly.

- Closed: calls go through. It opens after ``failure_threshold`` consecutive failures, or when at
  least ``min_calls`` calls ended in the last ``window_s`` and ``failure_ratio`` of them failed.
- Open: calls are rejected without touching the provider until ``open_for_s`` has passed.
- Half-open: up to ``half_open_max_calls`` trial calls at once; a success closes the breaker, a
  failure opens it for another cool-down.

Sources: Michael Nygard, "Release It!" (2nd ed.), chapter 5, "Circuit Breaker"; Martin Fowler,
"CircuitBreaker" (martinfowler.com/bliki/CircuitBreaker.html) for the three states and the reset
timeout; the failure-ratio window and the bounded half-open trials follow resilience4j.

Pure logic, with an injectable clock so tests drive the cool-down without waiting. Nothing here
awaits, so on one event loop each method is atomic; each worker process has its own breaker.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """The breaker's knobs; every field comes from Settings in the application."""

    failure_threshold: int = 5  # consecutive failures that open the breaker
    failure_ratio: float = 0.5  # ... or this share of failures among recent calls
    window_s: float = 60.0  # "recent": ended within this many seconds
    min_calls: int = 10  # a ratio of 2 failures in 3 calls says little: wait for this many
    open_for_s: float = 30.0  # the cool-down during which calls are rejected at once
    half_open_max_calls: int = 1  # trial calls in flight at once while half-open

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.min_calls < 1 or self.half_open_max_calls < 1:
            raise ValueError("need failure_threshold, min_calls, half_open_max_calls >= 1")
        if not 0 < self.failure_ratio <= 1 or self.window_s <= 0 or self.open_for_s <= 0:
            raise ValueError("need failure_ratio in (0, 1] and positive window_s, open_for_s")


class BreakerPermit:
    """Leave to make one call. Report its end exactly once; later reports do nothing, so a
    ``finally: permit.ignore()`` after ``success()`` or ``failure()`` is safe."""

    __slots__ = ("_breaker", "done", "epoch", "trial")

    def __init__(self, breaker: CircuitBreaker, epoch: int, trial: bool) -> None:
        self._breaker = breaker
        self.epoch = epoch  # the state period it was granted in (see CircuitBreaker._epoch)
        self.trial = trial
        self.done = False

    def success(self) -> None:
        self._end(failed=False)

    def failure(self) -> None:
        self._end(failed=True)

    def ignore(self) -> None:
        """The call ended without saying anything about the provider (cancelled, or our bug)."""
        self._end(failed=None)

    def _end(self, failed: bool | None) -> None:
        if not self.done:
            self.done = True
            self._breaker._record(self, failed)


class CircuitBreaker:
    """State and counters are plain attributes, read by the metrics layer."""

    def __init__(
        self, config: BreakerConfig | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or BreakerConfig()
        self._clock = clock
        self._state = BreakerState.CLOSED
        self.consecutive_failures = 0
        self.opened_count = 0  # times the breaker opened
        self.rejected_calls = 0  # calls refused without calling the provider
        self.successes = 0
        self.failures = 0
        self._opened_at = 0.0
        self._trials_in_flight = 0
        self._window: deque[tuple[float, bool]] = deque()  # (ended at, failed), oldest first
        self._window_failures = 0
        # Bumped on every state change. A call granted before the change that ends after it says
        # nothing about the provider *now*: its outcome is counted but moves no state.
        self._epoch = 0

    @property
    def state(self) -> BreakerState:
        self._refresh(self._clock())
        return self._state

    def retry_after_s(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 unless open)."""
        now = self._clock()
        self._refresh(now)
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.config.open_for_s - now)

    def try_acquire(self) -> BreakerPermit | None:
        """A permit for one call, or None (counted as rejected) if the call must not be made."""
        self._refresh(self._clock())
        if self._state is BreakerState.CLOSED:
            return BreakerPermit(self, self._epoch, trial=False)
        if (
            self._state is BreakerState.HALF_OPEN
            and self._trials_in_flight < self.config.half_open_max_calls
        ):
            self._trials_in_flight += 1
            return BreakerPermit(self, self._epoch, trial=True)
        self.rejected_calls += 1
        return None

    def _refresh(self, now: float) -> None:
        # The cool-down ends lazily, at the first look after it: no timer task to manage.
        if self._state is BreakerState.OPEN and now - self._opened_at >= self.config.open_for_s:
            self._transition(BreakerState.HALF_OPEN, now)

    def _record(self, permit: BreakerPermit, failed: bool | None) -> None:
        now = self._clock()
        if failed:
            self.failures += 1
        elif failed is not None:
            self.successes += 1
        if permit.epoch != self._epoch:
            return
        if permit.trial:
            self._trials_in_flight -= 1
        if failed is None:
            return
        if permit.trial:
            self._transition(BreakerState.OPEN if failed else BreakerState.CLOSED, now)
            return
        self.consecutive_failures = self.consecutive_failures + 1 if failed else 0
        self._window.append((now, failed))
        self._window_failures += 1 if failed else 0
        while self._window and self._window[0][0] <= now - self.config.window_s:
            _, old_failed = self._window.popleft()
            self._window_failures -= 1 if old_failed else 0
        calls = len(self._window)
        if self.consecutive_failures >= self.config.failure_threshold or (
            calls >= self.config.min_calls
            and self._window_failures >= self.config.failure_ratio * calls
        ):
            self._transition(BreakerState.OPEN, now)

    def _transition(self, state: BreakerState, now: float) -> None:
        self._state = state
        self._epoch += 1
        self._trials_in_flight = 0
        if state is BreakerState.OPEN:
            self.opened_count += 1
            self._opened_at = now
        else:
            # Half-open or closed starts from a clean slate: old failures already had their say.
            self.consecutive_failures = 0
            self._window.clear()
            self._window_failures = 0
