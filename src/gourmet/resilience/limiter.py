"""An adaptive concurrency limit with priority classes: admit at once or refuse at once.

The limit (requests doing database work at once) is learnt from latency, as TCP learns its window:
while requests take about as long as on an idle system, more concurrency is more throughput, so the
limit grows; once they take much longer, the extra ones are queueing (for a connection, a lock, a
CPU), so it shrinks until the queue is gone. Sources, read them before tuning:

- Netflix concurrency-limits, ``Gradient2Limit``: the gradient ``tolerance * no_load / short``,
  floored at 0.5 so one slow window cannot halve the limit more than once, and no growth while the
  service is "app limited" (using less than half of its limit, so the limit was never tested).
- Netflix concurrency-limits, ``VegasLimit``: additive increase while the queue is small.
- Envoy adaptive concurrency filter: a minimum-latency baseline, and ``sqrt(limit)`` headroom as the
  step, which recovers fast from a low limit yet grows gently near a high one.

One change of ours: the no-load latency is kept per *kind* of request (the admission rule that
matched it), and a window compares each sample with its own kind's baseline. Those libraries
assume one kind of call; here a 2 ms status read and a 10 ms checkout share the limit, and a
single baseline would read a window with more checkouts in it as congestion, shrink the limit
at half load and grow it back only slowly after a spike (measured with ``make bench``).

Waiting is bounded to absorb bursts, never to queue overload. A request that finds the limit
full may wait a few milliseconds for a slot (``burst_wait_s``): a burst at half load drains in
that time. The first wait that runs out shows a standing queue, not a burst, and for the next
``burst_cooldown_s`` everything that does not fit is refused at once, as CoDel drops once the
queue has not drained within its target for an interval (Nichols and Jacobson, "Controlling
Queue Delay", 2012). The November outage was requests queueing for connections long after their
clients had given up.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from enum import StrEnum

from gourmet.config import AdmissionSettings, group_default


class Priority(StrEnum):
    """What a request is worth when there is not room for everyone."""

    CRITICAL = "critical"  # kitchen board, order status and tracking
    CHECKOUT = "checkout"  # placing an order, the slots it needs
    LOW = "low"  # order history, reports, anything else that touches the database


@dataclass(frozen=True, slots=True)
class LimiterConfig:
    """The limiter's knobs. The three limits and the burst wait are settings (their defaults
    are the settings' own); the rest keep the defaults here, which ``make bench`` measured."""

    initial_limit: int = group_default(AdmissionSettings, "limiter_initial")
    min_limit: int = group_default(AdmissionSettings, "limiter_min")
    max_limit: int = group_default(AdmissionSettings, "limiter_max")
    # Latency up to tolerance x the no-load latency is "not queueing": Gradient2's 1.5. (With one
    # baseline for every kind it had to be 2, and still read a change of mix as congestion.)
    tolerance: float = 1.5
    shrink_floor: float = 0.5  # never cut to less than half in one window
    # Move only this share of the way to the cut the gradient asks for, as Gradient2 does: one
    # slow window (a burst, a pause) costs a few percent, ten in a row (a spike) cut it by half.
    smoothing: float = 0.2
    drop_backoff: float = 0.9  # multiplicative decrease after a window with dropped requests
    window_s: float = 0.1  # a window closes after this long *and* window_min_samples samples
    window_min_samples: int = 10
    # How fast a kind's no-load baseline follows its latency up (per window it is seen in; down
    # it follows at once). Without it, a baseline taken on an empty database would hold the limit
    # low forever.
    noload_drift: float = 0.01
    # How long a request that finds the limit full may wait for a slot, and for how long after
    # such a wait ran out nobody waits (see the module docstring).
    burst_wait_s: float = group_default(AdmissionSettings, "limiter_burst_wait_ms") / 1000
    burst_cooldown_s: float = 1.0
    # The share of the limit that each class may fill; lower classes are refused first.
    low_share: float = 0.5
    checkout_share: float = 0.9
    critical_share: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.min_limit <= self.initial_limit <= self.max_limit:
            raise ValueError("need 1 <= min_limit <= initial_limit <= max_limit")
        if not 0 < self.low_share <= self.checkout_share <= self.critical_share <= 1:
            raise ValueError("need 0 < low_share <= checkout_share <= critical_share <= 1")
        if self.tolerance < 1 or not 0 < self.shrink_floor < 1 or not 0 < self.drop_backoff < 1:
            raise ValueError("need tolerance >= 1 and shrink_floor, drop_backoff in (0, 1)")
        if not 0 < self.smoothing <= 1:
            raise ValueError("need smoothing in (0, 1]")
        if self.burst_wait_s < 0 or self.burst_cooldown_s < 0:
            raise ValueError("need burst_wait_s >= 0 and burst_cooldown_s >= 0")
        if self.window_s < 0 or self.window_min_samples < 1 or not 0 <= self.noload_drift <= 1:
            raise ValueError("need window_s >= 0, window_min_samples >= 1, noload_drift in [0, 1]")

    def share(self, priority: Priority) -> float:
        if priority is Priority.CRITICAL:
            return self.critical_share
        return self.checkout_share if priority is Priority.CHECKOUT else self.low_share


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class Permit:
    """One admitted request. Report how it ended exactly once; later reports do nothing, so a
    ``finally: permit.ignore()`` after an earlier ``success()`` is safe."""

    __slots__ = ("_limiter", "done", "kind", "priority", "started")

    def __init__(
        self, limiter: AdaptiveLimiter, priority: Priority, kind: Hashable, started: float
    ) -> None:
        self._limiter = limiter
        self.priority = priority
        self.kind = kind
        self.started = started
        self.done = False

    def success(self, latency_s: float | None = None) -> None:
        """The work finished; its latency (measured on the limiter's clock if not given) counts."""
        self._finish(latency_s, dropped=False, sample=True)

    def dropped(self) -> None:
        """The work was given up for lack of capacity (pool timeout, deadline): congestion."""
        self._finish(None, dropped=True, sample=True)

    def ignore(self) -> None:
        """The work ended in a way that says nothing about load (a bug, a client gone)."""
        self._finish(None, dropped=False, sample=False)

    def _finish(self, latency_s: float | None, *, dropped: bool, sample: bool) -> None:
        if self.done:
            return
        self.done = True
        self._limiter._release(self, latency_s, dropped=dropped, sample=sample)


class AdaptiveLimiter:
    """Admission by priority under a latency-driven limit.

    Safe under asyncio because no method awaits: each check-and-update runs to completion before any
    other task can run, so no lock is needed. It is not thread-safe; every worker process (and every
    event loop) owns its own limiter, and the limit then applies per worker.
    """

    # The current sample window, see _reset_window.
    _window_start: float
    _window_count: int
    _window_drops: int
    _window_latency_sum: float  # what the measured samples took
    _window_expected_sum: float  # what they would have taken at their kinds' no-load latency
    _window_by_kind: dict[Hashable, tuple[float, int]]  # latency sum and count per kind
    _window_peak: int

    def __init__(
        self, config: LimiterConfig | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config or LimiterConfig()
        self._clock = clock
        self._limit = float(self.config.initial_limit)
        # The no-load latency of each kind of request, from the first window it is seen in.
        self.noload_latency_s: dict[Hashable, float] = {}
        self.in_flight_by = dict.fromkeys(Priority, 0)
        self.admitted = dict.fromkeys(Priority, 0)
        self.refused = dict.fromkeys(Priority, 0)
        self.dropped = 0
        self.windows = 0  # closed sample windows, i.e. limit updates
        self._in_flight = 0
        self._waiters: list[asyncio.Future[None]] = []  # woken, all of them, by every release
        self._refuse_at_once_until = -math.inf  # limiter clock; see acquire
        self.waited = 0  # requests that waited for a slot and got one
        self._release_listeners: list[Callable[[], None]] = []
        self._reset_window(clock())

    @property
    def limit(self) -> int:
        return int(self._limit)

    def raise_floor(self, minimum: int) -> None:
        """Never limit below ``minimum`` (the pool size): that many requests can run without
        waiting for a connection, so refusing them saves nothing. Latency from contention the
        limit cannot relieve (a hot row lock) would otherwise push the limit to its minimum and
        starve an idle pool, as measured with ``make bench``."""
        if minimum > self.config.min_limit:
            self.config = replace(
                self.config,
                min_limit=minimum,
                initial_limit=max(minimum, self.config.initial_limit),
                max_limit=max(minimum, self.config.max_limit),
            )
            self._limit = max(self._limit, float(minimum))

    def lower_ceiling(self, maximum: int) -> None:
        """Never admit more than ``maximum`` (the pool's connections and its bounded queue): one
        more request than the pool takes in is refused by it at once, after its body was read
        and, for an order, its place in line given up. In the replayed November spike the
        limit climbed past the pool's 65 and about 200 orders a second were admitted only to be
        refused, each coming back as one more attempt."""
        maximum = max(maximum, self.config.min_limit)
        if maximum < self.config.max_limit:
            self.config = replace(
                self.config,
                initial_limit=min(maximum, self.config.initial_limit),
                max_limit=maximum,
            )
            self._limit = min(self._limit, float(maximum))

    @property
    def in_flight(self) -> int:
        return self._in_flight

    def capacity(self, priority: Priority) -> int:
        """How many requests may be in flight, in all, when one of ``priority`` asks to join.

        At least one: on an idle system even the lowest class is served.
        """
        return max(1, int(self._limit * self.config.share(priority)))

    def fits(self, priority: Priority) -> bool:
        """Whether one more request of ``priority`` fits under its share right now."""
        return self._in_flight < self.capacity(priority)

    def try_admit(self, priority: Priority, kind: Hashable = None) -> Permit | None:
        """A permit if ``priority`` fits, else None, without counting a refusal: for a caller
        that keeps the request waiting instead (the waiting room)."""
        return self.admit(priority, kind) if self.fits(priority) else None

    def on_release(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (synchronously) each time a permit is given back, after the
        limiter's own waiters were woken: a queue in front of the limiter hands the slot on."""
        self._release_listeners.append(listener)

    def try_acquire(self, priority: Priority, kind: Hashable = None) -> Permit | None:
        """A permit if ``priority`` fits under its share of the limit right now, else None.

        ``kind`` groups requests of similar cost (by default, their priority): each kind's
        latency is compared with that kind's own no-load latency.
        """
        if self._in_flight >= self.capacity(priority):
            self.refused[priority] += 1
            return None
        return self.admit(priority, kind)

    async def acquire(self, priority: Priority, kind: Hashable = None) -> Permit | None:
        """Like :meth:`try_acquire`, but a request that finds its share full may wait up to
        ``burst_wait_s`` for a slot, unless a wait ran out in the last ``burst_cooldown_s``."""
        if self._in_flight < self.capacity(priority):
            return self.admit(priority, kind)
        wait_s = self.config.burst_wait_s
        if wait_s <= 0 or self._clock() < self._refuse_at_once_until:
            self.refused[priority] += 1
            return None
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + wait_s
        while (left := give_up_at - loop.time()) > 0:
            waiter = loop.create_future()
            self._waiters.append(waiter)
            timer = loop.call_later(left, _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
            if self._in_flight < self.capacity(priority):
                self.waited += 1
                return self.admit(priority, kind)
        # Not drained within the wait: a standing queue. Refuse at once for a while.
        self._refuse_at_once_until = self._clock() + self.config.burst_cooldown_s
        self.refused[priority] += 1
        return None

    def admit(self, priority: Priority, kind: Hashable = None) -> Permit:
        """Admit unconditionally: callers check :meth:`fits` first."""
        self._in_flight += 1
        self.in_flight_by[priority] += 1
        self.admitted[priority] += 1
        self._window_peak = max(self._window_peak, self._in_flight)
        return Permit(self, priority, priority if kind is None else kind, self._clock())

    def _release(
        self, permit: Permit, latency_s: float | None, *, dropped: bool, sample: bool
    ) -> None:
        self._in_flight -= 1
        self.in_flight_by[permit.priority] -= 1
        if self._waiters:  # a slot is free: every waiter looks again, the first that fits has it
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                _wake(waiter)
        for listener in self._release_listeners:
            listener()
        if not sample:
            return
        now = self._clock()
        self._window_count += 1
        if dropped:
            # A dropped request's latency is the timeout it hit, not the service time: keep it out.
            self.dropped += 1
            self._window_drops += 1
        else:
            latency = now - permit.started if latency_s is None else latency_s
            self._window_latency_sum += latency
            # A kind not seen before counts as at its no-load latency until a window sets one.
            self._window_expected_sum += self.noload_latency_s.get(permit.kind, latency)
            total, count = self._window_by_kind.get(permit.kind, (0.0, 0))
            self._window_by_kind[permit.kind] = (total + latency, count + 1)
        enough = self._window_count >= self.config.window_min_samples
        if enough and now - self._window_start >= self.config.window_s:
            self._update_limit()
            self._reset_window(now)

    def _update_limit(self) -> None:
        cfg = self.config
        measured = self._window_count - self._window_drops
        new = self._limit
        if self._window_drops:  # requests gave up for lack of capacity: back off (AIMD)
            new = self._limit * cfg.drop_backoff
        elif measured:
            # How many times longer than on an idle system this window's requests took, each
            # against its own kind; Gradient2's short/long latency ratio with the mix taken out.
            expected = self._window_expected_sum
            slowdown = self._window_latency_sum / expected if expected > 0 else 1.0
            self._learn_baselines()
            gradient = cfg.tolerance / slowdown
            if gradient < 1.0:
                target = self._limit * max(cfg.shrink_floor, gradient)
                new = self._limit + (target - self._limit) * cfg.smoothing
            elif self._window_peak * 2 >= self._limit:  # grow only a limit that was tested
                new = self._limit + math.sqrt(self._limit)
        self._limit = min(float(cfg.max_limit), max(float(cfg.min_limit), new))
        self.windows += 1

    def _learn_baselines(self) -> None:
        """Each kind's baseline follows its window average down at once and up slowly."""
        for kind, (total, count) in self._window_by_kind.items():
            short = total / count
            noload = self.noload_latency_s.get(kind)
            if noload is None or short < noload:
                self.noload_latency_s[kind] = short
            else:
                self.noload_latency_s[kind] = noload + (short - noload) * self.config.noload_drift

    def _reset_window(self, now: float) -> None:
        self._window_start = now
        self._window_count = 0
        self._window_drops = 0
        self._window_latency_sum = 0.0
        self._window_expected_sum = 0.0
        self._window_by_kind = {}
        # Requests still in flight belong to the next window's load as well.
        self._window_peak = self._in_flight
