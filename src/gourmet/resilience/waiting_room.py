"""The waiting room: an order attempt that finds checkout's share of the limit full waits its turn
in a bounded line, first come first served, instead of being told "retry later".

The line is ordered by the time of each customer's *first* attempt, not of this request. That time
travels in a signed ticket (:class:`Tickets`) that the refusal hands out and the checkout page sends
back with its retry, bound to the attempt's Idempotency-Key (one ticket, one order), so a customer
who was sent away keeps their place on the next try, in any process of any replica: every process
signs with the same secret and orders by the same wall clock. A newcomer never overtakes someone
already waiting, and when the line is full a customer who came earlier takes the place of the one
who came last (who hears at once, with their place and an estimate).

Nobody waits longer than their hold (a few seconds, within the request's own deadline): then the
answer is a 503 that says the place in line, an estimate, and when to come back. Waiting costs no
connection to the database and no admission slot. Places are given out by the limiter's releases
(:meth:`AdaptiveLimiter.on_release`): each slot that frees up goes to the head of the line before
any later request can take it. Sources: the virtual waiting rooms of ticket sellers (a signed
queue token with the arrival time, as in AWS's "Virtual Waiting Room on AWS" solution), and FIFO
queueing with bounded sojourn as in CoDel.
"""

from __future__ import annotations

import asyncio
import base64
import bisect
import collections
import dataclasses
import hashlib
import hmac
import itertools
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gourmet.config import AdmissionSettings, group_default
from gourmet.resilience.limiter import AdaptiveLimiter, Permit, Priority

if TYPE_CHECKING:
    from gourmet.config import Settings

TICKET_HEADER = b"gourmet-ticket"
TICKET_MAX_AGE_S = 15 * 60.0  # a ticket older than this is a new arrival (a customer gives up in 2)
_TICKET_VERSION = "1"
_MAC_BYTES = 16
RATE_WINDOW_S = 5.0  # the service rate behind estimates: places given in the last 5 seconds
# A customer sent back with a ticket counts as in line, away, until served or not seen for this
# long (a Retry-After is at most 60 s: twice that without a try means they left).
AWAY_FOR_S = 120.0
MAX_AWAY = 100_000  # customers remembered as away, per process
EARLY_SLACK_S = 1.0  # back this much before their time still counts as on time
# What the room counts against its memory bound (Settings.waiting_room_max_bytes), as tracemalloc
# measures it on CPython 3.11: a customer held in line (waiter, future, line entry, timer), and
# one counted while away (dictionary slot, tuples, times), plus the length of their key.
HELD_BYTES = 640
AWAY_BYTES = 300


class Tickets:
    """Signed tickets that keep the time of a customer's first attempt.

    ``1.<first attempt, unix milliseconds>.<HMAC-SHA256 of version, time and Idempotency-Key>``:
    a customer cannot move their time forward, reuse another order's ticket, or keep a ticket
    forever. A ticket from the future (clock skew between replicas) counts from now.
    """

    def __init__(
        self,
        secret: bytes,
        *,
        max_age_s: float = TICKET_MAX_AGE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = hashlib.sha256(b"gourmet waiting room tickets\x00" + secret).digest()
        self._max_age_s = max_age_s
        self._clock = clock

    def issue(self, key: bytes, first_at: float) -> str:
        millis = str(int(first_at * 1000))
        return f"{_TICKET_VERSION}.{millis}.{self._mac(millis, key)}"

    def first_at(self, ticket: bytes | None, key: bytes | None) -> float | None:
        """The first attempt's time the ticket proves for this key, or None if it proves none."""
        if not ticket or not key:
            return None
        try:
            version, millis, mac = ticket.decode("ascii").split(".")
        except (UnicodeDecodeError, ValueError):
            return None
        if version != _TICKET_VERSION or not millis.isdigit() or len(millis) > 16:
            return None
        if not hmac.compare_digest(mac, self._mac(millis, key)):
            return None
        now = self._clock()
        first_at = int(millis) / 1000
        if now - first_at > self._max_age_s:
            return None
        return min(first_at, now)

    def _mac(self, millis: str, key: bytes) -> str:
        message = f"{_TICKET_VERSION}.{millis}.".encode() + key
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class Turn:
    """An attempt not served within its hold: its place in line (1 is next), the estimated
    seconds until then (None while nothing has been served lately to estimate from), whether
    the customer came back before the time they were given (they ignore Retry-After), and the
    line's reach: the seconds of service that the customers it can hold stand for (0.0 with no
    estimate). A customer back within their reach of their turn gets a place and waits there.
    When to come back is the line's policy (``line_policy.LinePolicy.back_in``)."""

    place: int
    wait_s: float | None
    early: bool = False
    reach_s: float = 0.0


class _Waiter:
    __slots__ = ("first_at", "future", "kind")

    def __init__(self, first_at: float, kind: Hashable, future: asyncio.Future[Permit | None]):
        self.first_at = first_at
        self.kind = kind
        self.future = future


def _settle(future: asyncio.Future[Permit | None], value: Permit | None) -> None:
    if not future.done():
        future.set_result(value)


class WaitingRoom:
    """A bounded line in front of one priority class of the limiter (checkout).

    Bounded twice: at most ``size`` customers held, and at most ``max_bytes`` kept in all
    (:attr:`kept_bytes`: those held, and those counted while away with their keys). A client
    chooses its key's length, so without the second bound a crowd of refused attempts with
    long keys would grow the process until it dies. The room is full when either bound is
    reached: a newcomer then gets the same answer as one finding the line full of earlier
    customers, and nothing is kept for them.

    Safe under asyncio for the limiter's reason: nothing between a check and its update awaits.
    Counters for the metrics: ``served`` (places given, at once or after waiting), ``waited``
    (of those, after waiting), ``timed_out`` (sent back without a place: the hold ran out, or
    ``evicted``, an earlier customer took it), ``turned_away`` (the line was full of earlier
    customers), ``left`` (the client went away while waiting); and ``not_kept`` (sent back
    but not counted while away: the room's memory was full).
    """

    def __init__(
        self,
        limiter: AdaptiveLimiter,
        *,
        size: int,
        max_bytes: int = group_default(AdmissionSettings, "waiting_room_max_bytes"),
        priority: Priority = Priority.CHECKOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 0 or max_bytes < 0:
            raise ValueError("size and max_bytes must be >= 0")
        self._limiter = limiter
        self._size = size
        self._max_bytes = max_bytes
        self._away_bytes = 0  # of kept_bytes, those counted while away
        self._priority = priority
        self._clock = clock
        # (first attempt, arrival number, waiter), sorted: the head is line[0].
        self._line: list[tuple[float, int, _Waiter]] = []
        self._arrivals = itertools.count()
        self._recent: collections.deque[float] = collections.deque()  # when places were given
        # Customers sent back with a ticket, still in line while away: by key, in the order
        # they were last seen (for forgetting), and sorted by first attempt (for places).
        # key -> (first attempt, last seen, when they were told to come back)
        self._away: collections.OrderedDict[bytes, tuple[float, float, float]] = (
            collections.OrderedDict()
        )
        self._away_line: list[tuple[float, bytes]] = []
        self.served = self.waited = self.timed_out = self.turned_away = 0
        self.evicted = self.left = self.not_kept = 0
        limiter.on_release(self._admit_heads)

    @classmethod
    def from_settings(cls, limiter: AdaptiveLimiter, settings: Settings) -> WaitingRoom:
        return cls(
            limiter,
            size=settings.admission.waiting_room_size,
            max_bytes=settings.admission.waiting_room_max_bytes,
        )

    def __len__(self) -> int:
        return len(self._line)

    @property
    def kept_bytes(self) -> int:
        """The memory the room keeps, as it counts it (HELD_BYTES, AWAY_BYTES): at most
        ``max_bytes``."""
        return len(self._line) * HELD_BYTES + self._away_bytes

    def _fits(self, more: int) -> bool:
        if self.kept_bytes + more <= self._max_bytes:
            return True
        self._expire_away()  # those away too long give their share back first
        return self.kept_bytes + more <= self._max_bytes

    def outcomes(self) -> dict[str, int]:
        """The counters by outcome, as the metrics label them."""
        return {
            "served": self.served,
            "waited": self.waited,
            "sent_back": self.timed_out,
            "turned_away": self.turned_away,
            "left": self.left,
        }

    async def wait_turn(
        self, first_at: float, kind: Hashable, hold_s: float, key: bytes | None = None
    ) -> Permit | Turn:
        """A permit, at once or after waiting at most ``hold_s``, or where the attempt stands.

        ``key`` (the order's Idempotency-Key) names the customer: one sent back is counted in
        line while away, so that places and estimates include everyone who came earlier.
        If the caller is cancelled (its client went away) while waiting, it leaves the line,
        and a permit it was given at that instant is handed back.
        """
        early = False
        if key is not None:
            away = self._away.get(key)
            early = away is not None and self._clock() < away[2] - EARLY_SLACK_S
            self._forget_away(key)  # here again: waiting, not away
        outcome = await self._wait_turn(first_at, kind, hold_s)
        if key is not None and isinstance(outcome, Turn):
            self._note_away(key, first_at)
            return dataclasses.replace(outcome, early=early)
        return outcome

    def expect_back(self, key: bytes, after_s: float) -> None:
        """The customer sent away under ``key`` was told to come back in ``after_s``."""
        away = self._away.get(key)
        if away is not None:
            self._away[key] = (away[0], away[1], self._clock() + after_s)

    async def _wait_turn(self, first_at: float, kind: Hashable, hold_s: float) -> Permit | Turn:
        if not self._line or first_at < self._line[0][0]:
            permit = self._limiter.try_admit(self._priority, kind)
            if permit is not None:
                self._note_served()
                return permit
        if hold_s <= 0 or self._size == 0:
            self.turned_away += 1
            return self._turn(first_at)
        if len(self._line) >= self._size or not self._fits(HELD_BYTES):
            # Full: an earlier customer takes the place of the last one (the same bytes).
            if not self._line or first_at >= self._line[-1][0]:
                self.turned_away += 1
                return self._turn(first_at)
            *_, last = self._line.pop()
            self.evicted += 1
            _settle(last.future, None)
        loop = asyncio.get_running_loop()
        waiter = _Waiter(first_at, kind, loop.create_future())
        entry = (first_at, next(self._arrivals), waiter)
        bisect.insort(self._line, entry)
        timer = loop.call_later(hold_s, _settle, waiter.future, None)
        try:
            permit = await waiter.future
        except asyncio.CancelledError:
            self.left += 1
            if waiter.future.done() and not waiter.future.cancelled():
                given = waiter.future.result()
                if given is not None:
                    given.ignore()
            raise
        finally:
            timer.cancel()
            self._remove(entry)
        if permit is not None:
            self.waited += 1
            return permit
        self.timed_out += 1
        return self._turn(first_at)

    def _admit_heads(self) -> None:
        """A slot was released: it goes to the head of the line, if the class fits."""
        while self._line and self._limiter.fits(self._priority):
            _, _, waiter = self._line.pop(0)
            if waiter.future.done():  # pragma: no cover - waiters leave the line when settled
                continue
            waiter.future.set_result(self._limiter.admit(self._priority, waiter.kind))
            self._note_served()

    def _remove(self, entry: tuple[float, int, _Waiter]) -> None:
        index = bisect.bisect_left(self._line, entry)
        if index < len(self._line) and self._line[index] is entry:
            del self._line[index]

    def _place_of(self, first_at: float) -> int:
        """1 + everyone who came earlier: waiting here, or sent back and coming again."""
        self._expire_away()
        waiting = bisect.bisect_left(self._line, (first_at, -1))
        return waiting + bisect.bisect_left(self._away_line, (first_at, b"")) + 1

    def _note_away(self, key: bytes, first_at: float) -> None:
        if len(self._away) >= MAX_AWAY:
            self._drop_away(next(iter(self._away)))
        if not self._fits(AWAY_BYTES + len(key)):
            self.not_kept += 1  # they keep their place by their ticket, uncounted meanwhile
            return
        now = self._clock()
        self._away[key] = (first_at, now, now)
        self._away_bytes += AWAY_BYTES + len(key)
        bisect.insort(self._away_line, (first_at, key))

    def _forget_away(self, key: bytes) -> None:
        if key in self._away:
            self._drop_away(key)

    def _drop_away(self, key: bytes) -> None:
        first_at, _seen, _due = self._away.pop(key)
        self._away_bytes -= AWAY_BYTES + len(key)
        index = bisect.bisect_left(self._away_line, (first_at, key))
        if index < len(self._away_line) and self._away_line[index] == (first_at, key):
            del self._away_line[index]

    def _expire_away(self) -> None:
        too_old = self._clock() - AWAY_FOR_S
        while self._away:
            key, (_first_at, seen, _due) = next(iter(self._away.items()))
            if seen >= too_old:
                break
            self._drop_away(key)

    @property
    def away(self) -> int:
        """Customers sent back with a ticket and expected again."""
        return len(self._away)

    def _note_served(self) -> None:
        self.served += 1
        now = self._clock()
        self._recent.append(now)
        while self._recent[0] < now - RATE_WINDOW_S:
            self._recent.popleft()

    def service_rate(self) -> float:
        """Places given per second lately (0.0 when none were given in the window)."""
        now = self._clock()
        while self._recent and self._recent[0] < now - RATE_WINDOW_S:
            self._recent.popleft()
        return len(self._recent) / RATE_WINDOW_S

    def _turn(self, first_at: float) -> Turn:
        place = self._place_of(first_at)
        rate = self.service_rate()
        if rate <= 0:
            return Turn(place, None)
        return Turn(place, place / rate, reach_s=self._size / rate)
