"""Sign-in throttling: a few wrong guesses, then a pause, per key (a client address, an email).

Kept in the process: guesses spread over several workers are still limited to workers x the
allowance, which is enough to make guessing a 24-character token or a 10-character password a
slow business. Keys are caller-chosen (emails are attacker-chosen), so keys whose failures have
all expired are swept once there are many of them: memory stays bounded by recent failures.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable

from gourmet.problems import Problem

MAX_FAILURES = 5
WINDOW_S = 300.0
SWEEP_ABOVE_KEYS = 10_000


class TooManyAttempts(Problem):
    status = 429
    slug = "too-many-attempts"
    title = "Too many sign-in attempts"


class SignInThrottle:
    def __init__(
        self,
        max_failures: int = MAX_FAILURES,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max = max_failures
        self._window = window_s
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, key: str) -> None:
        """Raise while ``key`` has too many recent failures."""
        if key not in self._failures:  # the common case, and no entry made for it
            return
        recent = self._recent(key)
        if len(recent) >= self._max:
            wait = int(recent[0] + self._window - self._clock()) + 1
            problem = TooManyAttempts(
                f"Too many wrong attempts. Try again in {wait} seconds.", retry_after_s=wait
            )
            problem.headers["Retry-After"] = str(wait)
            raise problem

    def failed(self, key: str) -> None:
        if len(self._failures) > SWEEP_ABOVE_KEYS:
            for stale in [k for k in self._failures if not self._recent(k)]:
                del self._failures[stale]
        self._recent(key).append(self._clock())

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= self._clock() - self._window:
            failures.popleft()
        return failures
