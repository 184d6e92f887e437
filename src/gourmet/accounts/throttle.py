"""Limits on guessing and on sign-ups, counted in PostgreSQL so that every worker and replica
shares them (``db/rate_counter.py``).

Sign-in failures are counted three ways within a window (5 minutes):

- per account *from one address*: 5, then that address waits. A guesser elsewhere cannot lock
  the owner out this way, only themselves;
- per address, over all accounts: 30 (one client trying many accounts);
- per account, from anywhere: 100 (many addresses guessing one account). This one could be used
  to lock an owner out, so a browser that has signed in to the account before (it holds the
  account's device cookie, ``devices.py``) is not held to it.

Each attempt is counted as a failure before the password is checked (concurrent guesses cannot
all slip under the limit), and a success gives its count back.

The address is the client's as ``ClientAddress`` sees it: a spoofed ``X-Forwarded-For`` counts
only behind a trusted proxy. A success clears only that address's count for the account: not
the address's over all accounts (signing in to one's own account would buy guesses at others),
nor the account's from everywhere (the owner signing in would buy the guessers a new round).
"""

from __future__ import annotations

from dataclasses import dataclass

from gourmet.db.rate_counter import Count, RateCounter
from gourmet.problems import Problem


class TooManyAttempts(Problem):
    status = 429
    slug = "too-many-attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail, retry_after_s=retry_after_s)
        self.headers["Retry-After"] = str(retry_after_s)


@dataclass(frozen=True)
class ThrottlePolicy:
    window_s: int = 300
    per_account_from_address: int = 5
    per_address: int = 30
    per_account: int = 100


class SignInThrottle:
    def __init__(self, counter: RateCounter, policy: ThrottlePolicy | None = None) -> None:
        self._counter = counter
        self._policy = policy or ThrottlePolicy()

    async def attempt(self, account: str, address: str, *, known_device: bool = False) -> None:
        """Count this attempt before the secret is checked; raise, counting nothing, while it
        would go past a limit.

        Counting comes first, in one locked upsert: read before the check and counted after it,
        every attempt in flight passed the read before any of them was counted."""
        policy = self._policy
        limits: dict[str, int | None] = {
            _pair(account, address): policy.per_account_from_address,
            _from(address): policy.per_address,
            # Still counted for a known browser: its wrong guesses count like anyone's.
            _to(account): None if known_device else policy.per_account,
        }
        over = await self._counter.add_within(limits, policy.window_s)
        if over:
            wait = max(count.resets_in_s for count in over.values())
            raise TooManyAttempts(
                f"Too many wrong attempts. Try again in {wait} seconds.", retry_after_s=wait
            )

    async def succeeded(self, account: str, address: str) -> None:
        # Only this address's count for the account is cleared: a success must not wipe what
        # many addresses guessed at it, or the owner signing in would buy the guessers a new
        # round. The other two counts get back only this attempt: only failures count there.
        await self._counter.clear([_pair(account, address)])
        await self._counter.take_back([_from(address), _to(account)], self._policy.window_s)


class ClientLimit:
    """At most ``max_hits`` of something per client within a window (sign-ups per address)."""

    def __init__(self, counter: RateCounter, name: str, max_hits: int, window_s: int) -> None:
        self._counter = counter
        self._name = name
        self._max_hits = max_hits
        self._window_s = window_s

    async def hit(self, client: str) -> Count:
        """Count one; raise once the client is over the limit (0: no limit)."""
        if self._max_hits == 0:
            return Count(0, self._window_s)
        bucket = f"{self._name}:{client}"
        count = (await self._counter.add([bucket], self._window_s))[bucket]
        if count.hits > self._max_hits:
            raise TooManyAttempts(
                f"Too many requests of this kind from your network. Try again in"
                f" {count.resets_in_s} seconds.",
                retry_after_s=count.resets_in_s,
            )
        return count


def _pair(account: str, address: str) -> str:
    return f"sign-in:{account}|{address}"


def _from(address: str) -> str:
    return f"sign-in-from:{address}"


def _to(account: str) -> str:
    return f"sign-in-to:{account}"
