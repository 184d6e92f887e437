"""The checkout page's retries: the one model every tool's customers follow (the open-model
customers of ``gourmet loadtest`` and ``replay-incident``, ``bench.retrying``, the Locust
journeys and the capacity simulation).

It is what ``src/gourmet/web/static/customer/js/checkout.js`` and ``api.js`` do with the answer
to one "Place order", kept here step for step; change it when they change:

* 2xx: the order is placed.
* 503 that says "busy, nothing was done" (no body, or a problem type in BUSY_TYPES), or no
  answer at all (a lost connection, status 0): the same request again, with the same
  Idempotency-Key, after Retry-After seconds (else the body's ``retry_after_s``, else 2 s;
  rounded up, between 1 and 60).
* "You are in line" (``/problems/waiting-room``): the same, sending back the ticket from the
  answer's body (``Gourmet-Ticket``), and the answer is not counted against the retries.
* Patience of the page: at most 20 counted retries and 10 minutes from the first click; past
  either, a busy answer ends the checkout ("still very busy, try again in a few minutes").
* Anything else ends the checkout with the problem shown: a 4xx (429 "too many attempts"
  included) or a 5xx that is not "busy" (a 500, a 504).
* Timeouts: the page sets none. An attempt lasts until it is answered or the customer leaves;
  the customer's own patience is the caller's, not the page's.

:class:`OldCheckoutPage` is the old platform's page, for the replay of November: no
Idempotency-Key, and customers who reload a spinner that has turned for 15 s.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

BUSY_TYPES = frozenset(
    {
        "/problems/overloaded",
        "/problems/waiting-room",
        "/problems/database-busy",
        "/problems/database-unavailable",
        "/problems/service-unavailable",
    }
)
WAITING_ROOM = "/problems/waiting-room"
NO_ANSWER = 0  # api.js: a network failure is status 0
DEFAULT_RETRY_S = 2
MAX_RETRY_S = 60
MAX_AUTOMATIC_RETRIES = 20
MAX_LINE_WAIT_S = 10 * 60.0


@dataclass(frozen=True)
class Answer:
    """One attempt's answer as the page reads it: the status (NO_ANSWER for none), the
    Retry-After header, and the JSON problem of the body, if any."""

    status: int
    retry_after: str | None = None
    problem: Mapping[str, Any] | None = None

    @classmethod
    def from_http(cls, status: int, headers: Mapping[str, str], body: bytes | str) -> Answer:
        """From a raw answer; ``headers`` are looked up by lower-case name."""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        problem = parsed if isinstance(parsed, dict) else None
        return cls(status, headers.get("retry-after"), problem)

    @property
    def type(self) -> str:
        return str((self.problem or {}).get("type") or "")

    @property
    def busy(self) -> bool:
        """Too busy, nothing was done: safe to send again with the same key (api.js isBusy)."""
        if self.status == NO_ANSWER:
            return True
        return self.status == 503 and (self.problem is None or self.type in BUSY_TYPES)

    @property
    def retry_after_s(self) -> int:
        """Seconds until the page tries again (api.js retryAfter)."""
        header = re.match(r"\s*[+-]?\d+", self.retry_after or "")
        hinted: float = math.nan
        if header:
            hinted = int(header.group())
        elif self.problem is not None:
            try:
                hinted = float(self.problem.get("retry_after_s"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                hinted = math.nan
        seconds = hinted if math.isfinite(hinted) and hinted > 0 else DEFAULT_RETRY_S
        return min(max(math.ceil(seconds), 1), MAX_RETRY_S)


Action = Literal["placed", "retry", "gave-up", "refused"]


@dataclass(frozen=True)
class Next:
    """What the page does after an answer: ``placed``; ``retry`` after ``wait_s``; ``gave-up``
    (still busy past its patience); ``refused`` (a problem shown, no automatic retry)."""

    action: Action
    wait_s: float = 0.0


@dataclass
class CheckoutPage:
    """One checkout, from the first "Place order" (at ``started_s``, any clock) until an order
    exists or the page stops. ``storm_wait_s`` models a client that ignores Retry-After and
    comes back after that long instead (a retry storm, for ``bench.retrying``)."""

    started_s: float
    key: str
    storm_wait_s: float | None = None
    retries: int = 0  # counted retries (waiting-room answers are not counted)
    ticket: str | None = None

    @property
    def spinner_s(self) -> float | None:
        """How long the page waits on one attempt before the customer gives up on it: never
        (the page sets no timeout; the customer's patience is the caller's)."""
        return None

    def reloaded(self) -> None:
        """Never called: the page has no spinner timeout."""

    def headers(self) -> dict[str, str]:
        """The headers the page sends with each attempt."""
        headers = {"Idempotency-Key": self.key, "X-Requested-With": "gourmet"}
        if self.ticket:
            headers["Gourmet-Ticket"] = self.ticket
        return headers

    def after(self, answer: Answer, now_s: float) -> Next:
        """What the page does with ``answer``, received at ``now_s`` (checkout.js place)."""
        if 200 <= answer.status < 300:
            return Next("placed")
        in_line = answer.type == WAITING_ROOM
        if in_line and answer.problem is not None and answer.problem.get("ticket"):
            self.ticket = str(answer.problem["ticket"])
        tries = self.retries if in_line else self.retries + 1
        patient = tries <= MAX_AUTOMATIC_RETRIES and now_s - self.started_s < MAX_LINE_WAIT_S
        if answer.busy and patient:
            self.retries = tries
            wait_s = answer.retry_after_s if self.storm_wait_s is None else self.storm_wait_s
            return Next("retry", wait_s)
        return Next("gave-up" if answer.busy else "refused")


# The old platform's checkout page, as the postmortem's customers met it: a spinner with no
# end, no Idempotency-Key, and people who reload when it has turned for a while.
OLD_SPINNER_S = 15.0  # "a spinner for about 15 s, then a reload that sends the order again"
OLD_AGAIN_AFTER_S = 3.0  # an error page read, then "Place order" clicked again


@dataclass
class OldCheckoutPage:
    """The old platform's page: it sent each "Place order" as a new request with no
    Idempotency-Key, so a reload while the first was still being placed made a second order
    (the server kept working for a request whose customer had gone). Its customer reloads
    after ``spinner_s`` of spinner, and clicks again ``again_after_s`` after any error page,
    until their own patience (the caller's) runs out."""

    started_s: float
    key: str = ""  # never sent
    spinner_s: float | None = OLD_SPINNER_S
    again_after_s: float = OLD_AGAIN_AFTER_S
    reloads: int = 0

    def headers(self) -> dict[str, str]:
        return {}

    def after(self, answer: Answer, now_s: float) -> Next:
        if 200 <= answer.status < 300:
            return Next("placed")
        return Next("retry", self.again_after_s)

    def reloaded(self) -> None:
        """The spinner turned for ``spinner_s``: the customer reloads and sends it again."""
        self.reloads += 1
