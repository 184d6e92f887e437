"""The waiting room's timing, in one place: how long an order attempt may take from its arrival,
how long it waits in line, how long it may run once admitted, and when a customer sent back
should try again.

The rule everything here serves: **no order is placed for a client that has gone.** Browsers'
fetches, API clients, proxies and people give up after about ten seconds, and most send no
deadline. So an order attempt has one budget counted from its arrival (``checkout_budget_s``,
below those ten seconds), and its wait in line is taken from that budget, never added to it: a
customer held in line for most of the budget keeps only what is left to be served, and the
database work is refused (:mod:`gourmet.resilience.deadline`) rather than started or committed
past it. A client that asks for less (``X-Request-Deadline-Ms``) gets less, never more.

Within that budget, the line holds an attempt for at most ``waiting_room_hold_s`` and always
leaves half of a normal request's deadline (``deadline_s``) to serve it once its place comes.
An attempt not served by then hears its place and when to come back (:meth:`LinePolicy.back_in`),
with the signed ticket that keeps its place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gourmet.config import AdmissionSettings, group_default
from gourmet.resilience import deadline

if TYPE_CHECKING:
    from gourmet.resilience.waiting_room import Turn

# Customers sent back come again after at most this share of their estimated wait: the
# estimate (places ahead / the last 5 s's rate) can be off by a fifth over a minute, and a line
# left empty by customers all told to come too late idles the database.
EARLY_SHARE = 0.8
MAX_LINE_RETRY_S = 60  # a customer in line hears from us at least once a minute


@dataclass(frozen=True, slots=True)
class LinePolicy:
    """The timing of order attempts that may wait in line (see the module's docstring)."""

    budget_s: float = group_default(
        AdmissionSettings, "checkout_budget_s"
    )  # arrival to answer, line included
    serve_s: float = group_default(
        AdmissionSettings, "deadline_s"
    )  # one request's time once admitted
    hold_s: float = group_default(
        AdmissionSettings, "waiting_room_hold_s"
    )  # the longest wait in one request

    def __post_init__(self) -> None:
        if self.budget_s <= 0 or self.serve_s <= 0 or self.hold_s < 0:
            raise ValueError("budget_s and serve_s must be positive, hold_s not negative")

    @property
    def serve_reserve_s(self) -> float:
        """What the line always leaves of the budget to serve an attempt admitted at the end of
        its hold: half a normal request's deadline (a checkout takes milliseconds; the rest
        covers the pool, a slow statement and the answer's way back)."""
        return min(self.serve_s, self.budget_s) / 2

    def deadline(self, arrival: float, asked: bytes | None) -> float:
        """The attempt's absolute deadline: its arrival plus the budget, or plus what the
        client asked for if that is less."""
        return arrival + deadline.budget_s(asked, self.budget_s)

    def hold(self, left_s: float) -> float:
        """How long an attempt with ``left_s`` of its budget left may wait in line (0: it is
        answered with its place at once)."""
        return max(min(self.hold_s, left_s - self.serve_reserve_s), 0.0)

    def admitted_deadline(self, stamped: float, now: float) -> float:
        """The deadline of an attempt admitted at ``now``: what is left of its budget, and no
        more than a normal request's deadline. Never later than ``stamped``."""
        return min(stamped, now + self.serve_s)

    def back_in(self, turn: Turn) -> float | None:
        """When a customer not served within their hold should try again: once their place is
        halfway into what that try can wait for (the line's reach, or a hold if shorter), and
        no later than EARLY_SHARE of the estimate, which a long wait can miss by more than the
        reach. Earlier, the line is still full of those before them and they are sent back at
        once, a try for nothing; later, the line runs dry while they are away and the kitchen's
        capacity goes unused. None with no estimate."""
        if turn.wait_s is None:
            return None
        hold = self.hold(self.budget_s)
        return min(turn.wait_s - min(turn.reach_s, hold) / 2, turn.wait_s * EARLY_SHARE)

    def retry_after(self, turn: Turn) -> int | None:
        """:meth:`back_in` as a Retry-After: whole seconds, at least 1, at most a minute (a
        customer in line hears from us at least that often); None with no estimate."""
        back_in = self.back_in(turn)
        if back_in is None:
            return None
        return min(max(math.ceil(back_in), 1), MAX_LINE_RETRY_S)
