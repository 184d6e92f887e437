"""The circuit breaker's state machine, driven by a fake clock (no provider, no waiting)."""

from __future__ import annotations

from typing import Any

import pytest

from gourmet.payments.breaker import BreakerConfig, BreakerPermit, BreakerState, CircuitBreaker
from tests.payments.helpers import FakeClock, state


def breaker(clock: FakeClock, **overrides: Any) -> CircuitBreaker:
    """Consecutive failures only (min_calls out of reach) unless a test asks for the ratio."""
    settings: dict[str, Any] = {"failure_threshold": 3, "min_calls": 100, "open_for_s": 30}
    return CircuitBreaker(BreakerConfig(**(settings | overrides)), clock=clock)


def permit(b: CircuitBreaker) -> BreakerPermit:
    granted = b.try_acquire()
    assert granted is not None
    return granted


def fail(b: CircuitBreaker, times: int = 1) -> None:
    for _ in range(times):
        permit(b).failure()


def test_opens_after_consecutive_failures(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 2)
    permit(b).success()  # resets the run
    fail(b, 2)
    assert state(b) is BreakerState.CLOSED
    assert b.consecutive_failures == 2

    fail(b)
    assert state(b) is BreakerState.OPEN
    assert b.opened_count == 1
    assert b.try_acquire() is None
    assert b.try_acquire() is None
    assert b.rejected_calls == 2
    assert (b.successes, b.failures) == (1, 5)


def test_opens_on_failure_ratio_in_window(clock: FakeClock) -> None:
    b = breaker(clock, failure_threshold=100, min_calls=4, failure_ratio=0.5, window_s=10)
    for failed in (True, False, True):
        permit(b).failure() if failed else permit(b).success()
    assert state(b) is BreakerState.CLOSED  # 2 of 3 failed, but 3 calls are too few to judge

    permit(b).success()
    assert state(b) is BreakerState.OPEN  # 2 of 4


def test_window_forgets_old_calls(clock: FakeClock) -> None:
    b = breaker(clock, failure_threshold=100, min_calls=4, failure_ratio=0.5, window_s=10)
    fail(b, 3)
    clock.advance(11)
    for _ in range(3):
        permit(b).success()
    fail(b)
    assert state(b) is BreakerState.CLOSED  # 1 of the last 4; the old failures have aged out


def test_cool_down_then_half_open_lets_limited_trials_through(clock: FakeClock) -> None:
    b = breaker(clock, half_open_max_calls=2)
    fail(b, 3)
    clock.advance(20)
    assert b.retry_after_s() == 10
    assert b.try_acquire() is None

    clock.advance(10)
    assert state(b) is BreakerState.HALF_OPEN
    first, second = permit(b), permit(b)
    assert b.try_acquire() is None  # both trial slots taken
    first.ignore()  # cancelled: frees its slot, proves nothing
    third = permit(b)
    assert state(b) is BreakerState.HALF_OPEN

    second.success()
    assert state(b) is BreakerState.CLOSED
    assert b.consecutive_failures == 0
    third.failure()  # a trial from the half-open period no longer decides anything
    assert state(b) is BreakerState.CLOSED


def test_failed_trial_opens_for_another_cool_down(clock: FakeClock) -> None:
    b = breaker(clock)
    fail(b, 3)
    clock.advance(30)
    fail(b)
    assert state(b) is BreakerState.OPEN
    assert b.opened_count == 2
    assert b.retry_after_s() == 30


def test_late_result_from_before_opening_moves_nothing(clock: FakeClock) -> None:
    b = breaker(clock)
    slow = permit(b)
    fail(b, 3)
    slow.success()
    assert state(b) is BreakerState.OPEN
    assert b.successes == 1


def test_a_permit_reports_once(clock: FakeClock) -> None:
    b = breaker(clock)
    once = permit(b)
    once.failure()
    once.failure()
    once.ignore()
    assert (b.failures, b.consecutive_failures) == (1, 1)


@pytest.mark.parametrize(
    "bad", [{"failure_threshold": 0}, {"failure_ratio": 0}, {"open_for_s": 0}, {"window_s": -1}]
)
def test_config_is_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        BreakerConfig(**bad)
