"""The sign-in throttle: five failures, then a pause; memory bounded by recent failures."""

from __future__ import annotations

import pytest

from gourmet.accounts import throttle as throttle_module
from gourmet.accounts.throttle import SignInThrottle, TooManyAttempts


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_five_failures_then_a_pause_that_ends() -> None:
    clock = Clock()
    throttle = SignInThrottle(max_failures=5, window_s=300, clock=clock)
    for _ in range(5):
        throttle.check("email:a@example.com")
        throttle.failed("email:a@example.com")
    with pytest.raises(TooManyAttempts):
        throttle.check("email:a@example.com")
    throttle.check("email:b@example.com")  # other keys are not affected
    clock.now += 301
    throttle.check("email:a@example.com")


def test_expired_keys_are_swept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(throttle_module, "SWEEP_ABOVE_KEYS", 10)
    clock = Clock()
    throttle = SignInThrottle(window_s=300, clock=clock)
    for n in range(20):
        throttle.check(f"email:{n}@example.com")  # checking alone stores nothing
    assert len(throttle._failures) == 0
    for n in range(11):
        throttle.failed(f"email:{n}@example.com")
    clock.now += 301
    throttle.failed("email:new@example.com")
    assert list(throttle._failures) == ["email:new@example.com"]
