"""The adaptive limiter, driven by a fake clock: priorities, adaptation, bounds, bookkeeping."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from gourmet.resilience.limiter import AdaptiveLimiter, LimiterConfig, Priority

pytestmark = pytest.mark.anyio


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fixed(limit: int, **overrides: Any) -> AdaptiveLimiter:
    """A limiter whose limit cannot move, to test admission alone."""
    config = LimiterConfig(initial_limit=limit, min_limit=limit, max_limit=limit, **overrides)
    return AdaptiveLimiter(config, clock=FakeClock())


def adaptive(clock: FakeClock, **overrides: Any) -> AdaptiveLimiter:
    # Windows close on time (1 s) so that run_window decides exactly which samples share one.
    settings: dict[str, Any] = {"initial_limit": 20, "min_limit": 4, "max_limit": 100}
    settings |= {"window_s": 1.0, "window_min_samples": 1, **overrides}
    return AdaptiveLimiter(LimiterConfig(**settings), clock=clock)


def run_window(limiter: AdaptiveLimiter, clock: FakeClock, latency_s: float) -> None:
    """One window: as many requests as the limit in flight at once, all taking latency_s."""
    permits = [limiter.try_acquire(Priority.CRITICAL) for _ in range(limiter.limit)]
    last = permits.pop()
    for permit in permits:
        assert permit is not None
        permit.success(latency_s)
    clock.now += 1.0  # the window's time is up: the last sample closes it
    assert last is not None
    last.success(latency_s)


def settled(clock: FakeClock) -> AdaptiveLimiter:
    """A limiter after three windows at a steady 10 ms."""
    limiter = adaptive(clock)
    for _ in range(3):
        run_window(limiter, clock, 0.010)
    return limiter


def test_lower_classes_are_refused_first_as_the_limit_fills() -> None:
    limiter = fixed(10)  # LOW may fill 5, CHECKOUT 9, CRITICAL 10
    held = [limiter.try_acquire(Priority.LOW) for _ in range(5)]
    assert all(held)
    assert limiter.try_acquire(Priority.LOW) is None
    held += [limiter.try_acquire(Priority.CHECKOUT) for _ in range(4)]
    assert all(held)
    assert limiter.try_acquire(Priority.CHECKOUT) is None
    assert limiter.try_acquire(Priority.CRITICAL) is not None
    assert limiter.try_acquire(Priority.CRITICAL) is None
    assert limiter.in_flight == 10
    assert limiter.refused == {Priority.LOW: 1, Priority.CHECKOUT: 1, Priority.CRITICAL: 1}
    assert limiter.admitted == {Priority.LOW: 5, Priority.CHECKOUT: 4, Priority.CRITICAL: 1}


def test_shares_are_parameters() -> None:
    limiter = fixed(10, low_share=0.2, checkout_share=0.4)
    assert [limiter.capacity(p) for p in Priority] == [10, 4, 2]
    # Even a tiny share admits one request on an idle system.
    assert fixed(1).capacity(Priority.LOW) == 1


def test_a_released_permit_frees_its_slot_once() -> None:
    limiter = fixed(4)
    permit = limiter.try_acquire(Priority.LOW)
    assert permit is not None
    assert limiter.in_flight_by[Priority.LOW] == 1
    permit.success()
    permit.ignore()  # a second report must not free a slot twice
    permit.dropped()
    assert limiter.in_flight == 0
    assert limiter.in_flight_by[Priority.LOW] == 0


def test_limit_shrinks_when_latency_rises_and_grows_back_when_it_falls() -> None:
    clock = FakeClock()
    limiter = settled(clock)
    steady = limiter.limit
    assert steady > 20  # latency at its no-load level: the limit grew
    assert limiter.noload_latency_s[Priority.CRITICAL] == pytest.approx(0.010)

    run_window(limiter, clock, 0.050)  # five times the no-load latency: queueing
    shrunk = limiter.limit
    assert shrunk < steady
    run_window(limiter, clock, 0.050)
    assert limiter.limit < shrunk

    low = limiter.limit
    for _ in range(3):
        run_window(limiter, clock, 0.011)
    assert limiter.limit > low


def test_one_slow_window_costs_little_a_run_of_them_a_lot() -> None:
    """Gradient2's smoothing: a burst or a pause must not halve the limit, a spike must."""
    clock = FakeClock()
    limiter = settled(clock)
    steady = limiter.limit
    run_window(limiter, clock, 0.050)
    assert steady * 0.85 <= limiter.limit < steady
    for _ in range(10):
        run_window(limiter, clock, 0.050)
    assert limiter.limit <= steady // 2


def test_latency_within_tolerance_is_not_congestion() -> None:
    clock = FakeClock()
    limiter = adaptive(clock, tolerance=2.0)
    run_window(limiter, clock, 0.010)
    before = limiter.limit
    run_window(limiter, clock, 0.019)
    assert limiter.limit > before


def run_mixed_window(
    limiter: AdaptiveLimiter, clock: FakeClock, reads: int, checkouts: int, slowdown: float = 1.0
) -> None:
    """One window of 2 ms reads and 10 ms checkouts (slowed down ``slowdown`` times), each kind
    named as admission names it, everything in flight at once."""
    kinds = [("read", 0.002)] * reads + [("checkout", 0.010)] * checkouts
    permits = [(limiter.try_acquire(Priority.CRITICAL, kind), latency) for kind, latency in kinds]
    for index, (permit, latency) in enumerate(permits):
        assert permit is not None
        if index == len(permits) - 1:
            clock.now += 1.0  # the window's time is up: the last sample closes it
        permit.success(latency * slowdown)


def test_a_change_of_mix_is_not_congestion() -> None:
    """Windows heavy in slow checkouts after windows of fast reads: with one baseline the average
    latency rose fivefold and the limit was cut; each kind against its own baseline, it grows."""
    clock = FakeClock()
    limiter = adaptive(clock)
    run_mixed_window(limiter, clock, reads=19, checkouts=1)
    run_mixed_window(limiter, clock, reads=1, checkouts=19)  # learns the checkouts' baseline
    before = limiter.limit
    for _ in range(3):
        run_mixed_window(limiter, clock, reads=2, checkouts=20)
    assert limiter.limit > before
    assert limiter.noload_latency_s == {"read": pytest.approx(0.002), "checkout": 0.010}

    # The same mix, every kind three times slower than idle: queueing, whatever the mix.
    grown = limiter.limit
    run_mixed_window(limiter, clock, reads=10, checkouts=12, slowdown=3.0)
    assert limiter.limit < grown


def test_limit_stays_within_its_bounds() -> None:
    clock = FakeClock()
    limiter = adaptive(clock, max_limit=30)
    for _ in range(20):
        run_window(limiter, clock, 0.010)
    assert limiter.limit == 30
    for _ in range(20):
        run_window(limiter, clock, 1.0)
    assert limiter.limit == 4


def test_dropped_requests_shrink_the_limit() -> None:
    clock = FakeClock()
    limiter = adaptive(clock)
    permits = [limiter.try_acquire(Priority.CHECKOUT) for _ in range(10)]
    clock.now += 1.0
    for permit in permits:
        assert permit is not None
        permit.dropped()
    assert limiter.dropped == 10
    assert limiter.windows == 1
    assert limiter.limit == 18  # 20 x 0.9, and the next windows only close one sample each


def test_no_growth_while_the_limit_is_not_being_used() -> None:
    """Gradient2's "app limited" rule: a limit never approached was never tested."""
    clock = FakeClock()
    limiter = adaptive(clock)
    for _ in range(5):
        permit = limiter.try_acquire(Priority.LOW)  # one at a time, against a limit of 20
        assert permit is not None
        clock.now += 1.0
        permit.success(0.010)
    assert limiter.windows == 5
    assert limiter.limit == 20


def test_latency_is_measured_on_the_limiter_clock() -> None:
    clock = FakeClock()
    limiter = adaptive(clock, window_s=0.0)
    permit = limiter.try_acquire(Priority.CRITICAL)
    assert permit is not None
    clock.now += 0.025
    permit.success()
    assert limiter.noload_latency_s[Priority.CRITICAL] == pytest.approx(0.025)


def test_ignored_requests_are_not_samples() -> None:
    clock = FakeClock()
    limiter = adaptive(clock, window_s=0.0)
    for _ in range(30):
        permit = limiter.try_acquire(Priority.LOW)
        assert permit is not None
        permit.ignore()
    assert limiter.windows == 0
    assert limiter.in_flight == 0


def test_windows_also_need_time_to_close() -> None:
    clock = FakeClock()
    limiter = AdaptiveLimiter(LimiterConfig(window_s=1.0, window_min_samples=2), clock=clock)
    for _ in range(5):
        permit = limiter.try_acquire(Priority.CRITICAL)
        assert permit is not None
        permit.success(latency_s=0.01)
    assert limiter.windows == 0
    clock.now += 1.0
    permit = limiter.try_acquire(Priority.CRITICAL)
    assert permit is not None
    permit.success(latency_s=0.01)
    assert limiter.windows == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {"min_limit": 0},
        {"initial_limit": 300},
        {"low_share": 0.95},
        {"critical_share": 1.5},
        {"tolerance": 0.5},
        {"shrink_floor": 1.0},
        {"window_min_samples": 0},
    ],
)
def test_inconsistent_configuration_is_rejected(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        LimiterConfig(**overrides)


async def test_concurrent_tasks_never_exceed_the_limit() -> None:
    """Many tasks racing for slots on one event loop: the check and the update are atomic."""
    limiter = fixed(8)
    gate, all_decided = asyncio.Event(), asyncio.Event()
    peak = decided = 0

    async def request(priority: Priority) -> bool:
        nonlocal peak, decided
        permit = limiter.try_acquire(priority)
        decided += 1
        if decided == 60:
            all_decided.set()
        if permit is None:
            return False
        peak = max(peak, limiter.in_flight)
        await gate.wait()
        permit.success()
        return True

    tasks = [asyncio.create_task(request(list(Priority)[i % 3])) for i in range(60)]
    await asyncio.wait_for(all_decided.wait(), 5.0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert sum(results) == 8
    assert peak == 8
    assert limiter.in_flight == 0
    assert sum(limiter.admitted.values()) == 8
    assert sum(limiter.refused.values()) == 52


async def test_a_burst_waits_briefly_for_a_slot_instead_of_being_refused() -> None:
    config = LimiterConfig(initial_limit=2, min_limit=2, max_limit=2, burst_wait_s=5.0)
    limiter = AdaptiveLimiter(config)
    first, second = limiter.try_acquire(Priority.CRITICAL), limiter.try_acquire(Priority.CRITICAL)
    waiting = asyncio.create_task(limiter.acquire(Priority.CRITICAL))
    await asyncio.sleep(0)
    assert not waiting.done()  # the limit is full: it waits instead of being refused
    assert first is not None
    assert second is not None
    first.success()
    permit = await asyncio.wait_for(waiting, 1.0)
    assert permit is not None
    assert (limiter.waited, limiter.in_flight, limiter.refused[Priority.CRITICAL]) == (1, 2, 0)


async def test_a_wait_that_runs_out_means_overload_and_then_nobody_waits() -> None:
    config = LimiterConfig(
        initial_limit=1, min_limit=1, max_limit=1, burst_wait_s=0.01, burst_cooldown_s=60.0
    )
    limiter = AdaptiveLimiter(config)
    assert await limiter.acquire(Priority.CRITICAL) is not None
    assert await limiter.acquire(Priority.CRITICAL) is None  # waited 10 ms, no slot came free
    # In the cool-down even a minute's allowance is not used: refused without waiting.
    limiter.config = replace(limiter.config, burst_wait_s=60.0)
    assert await asyncio.wait_for(limiter.acquire(Priority.CRITICAL), 5.0) is None
    assert limiter.refused[Priority.CRITICAL] == 2
    assert limiter.waited == 0


async def test_a_cancelled_waiter_gives_nothing_back_and_blocks_nobody() -> None:
    config = LimiterConfig(initial_limit=1, min_limit=1, max_limit=1, burst_wait_s=5.0)
    limiter = AdaptiveLimiter(config)
    held = limiter.try_acquire(Priority.CRITICAL)
    gone = asyncio.create_task(limiter.acquire(Priority.CRITICAL))  # its client hangs up
    await asyncio.sleep(0)
    gone.cancel()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert held is not None
    held.success()
    assert limiter.in_flight == 0
    assert limiter.try_acquire(Priority.CRITICAL) is not None


def test_floor_raised_to_the_pool_size_holds_under_rising_latency() -> None:
    clock = [0.0]
    limiter = AdaptiveLimiter(
        LimiterConfig(initial_limit=20, min_limit=4, max_limit=100, window_min_samples=1),
        clock=lambda: clock[0],
    )
    limiter.raise_floor(12)
    assert limiter.config.min_limit == 12
    for latency in (0.001, 0.05, 0.2, 0.5):  # contention the limit cannot relieve
        for _ in range(20):
            permit = limiter.try_acquire(Priority.CRITICAL)
            assert permit is not None
            clock[0] += 0.2
            permit.success(latency)
    assert limiter.limit == 12
    limiter.raise_floor(3)  # a lower floor changes nothing
    assert limiter.config.min_limit == 12


def test_ceiling_lowered_to_what_the_pool_takes_in_holds_under_falling_latency() -> None:
    clock = [0.0]
    limiter = AdaptiveLimiter(
        LimiterConfig(initial_limit=20, min_limit=4, max_limit=100, window_min_samples=1),
        clock=lambda: clock[0],
    )
    limiter.lower_ceiling(1 + 64)  # a pool of one connection and 64 waiting for it
    for _ in range(200):  # the limit full of fast answers: the gradient asks for more
        permits = []
        while (permit := limiter.try_acquire(Priority.CRITICAL)) is not None:
            permits.append(permit)
        clock[0] += 0.2
        for permit in permits:
            permit.success(0.001)
    assert limiter.limit == 65
    limiter.lower_ceiling(200)  # a higher ceiling changes nothing
    assert limiter.config.max_limit == 65
    limiter.lower_ceiling(2)  # never below the floor
    assert limiter.config.max_limit == 4
