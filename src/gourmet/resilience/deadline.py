"""Request deadlines: one absolute instant per request that bounds every wait made for it.

The admission middleware stamps ``scope["state"]["deadline"]`` (a ``time.monotonic()`` instant) on
each request. Code that waits (for a pooled connection, a lock, a provider) asks how much time is
left and waits no longer, and work whose client has already given up is not started at all. That is
the lesson of the November outage and of the peers: a server busy answering requests nobody waits
for any more serves no one.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextvars import ContextVar
from typing import Any

DEADLINE_KEY = "deadline"
MIN_WAIT_S = 0.05  # shorter waits cannot succeed; they only turn into errors
# Database work does not start with less time left than this: its answer would reach a client
# that has given up, and an order placed then is placed but never acknowledged.
START_MARGIN_S = 0.25
# A client may ask for a shorter budget than the default (a phone that gives up after 2 s), never
# a longer one: the default is what protects the server.
DEADLINE_HEADER = b"x-request-deadline-ms"


# The same deadline, for code far from the scope (a repository acquiring a connection): the
# middleware sets it in the request's task, and ASGI apps handle a request within that task.
CURRENT: ContextVar[float | None] = ContextVar("gourmet_deadline", default=None)
# The client of the request being served, where the admission middleware watches it (an order
# attempt, whose body it read ahead): a future that completes once the client has gone.
DEPARTURE: ContextVar[asyncio.Future[Any] | None] = ContextVar("gourmet_departure", default=None)


def current_timeout(ceiling_s: float, now: float | None = None) -> float:
    """:func:`bounded_timeout` for the request being served in this task (``ceiling_s`` if none)."""
    return bounded_timeout({DEADLINE_KEY: CURRENT.get()}, ceiling_s, now)


@contextlib.contextmanager
def unbounded() -> Iterator[None]:
    """Lift the deadline for work that must finish once started, such as recording what an
    external provider already did: abandoning it would lose a fact, not save time."""
    token = CURRENT.set(None)
    try:
        yield
    finally:
        CURRENT.reset(token)


def current_timeout_with_margin(ceiling_s: float, margin_s: float) -> float:
    """:func:`current_timeout` minus ``margin_s`` kept for the work that follows the wait."""
    return max(current_timeout(ceiling_s) - margin_s, MIN_WAIT_S)


class DeadlineExceeded(Exception):  # noqa: N818 - "exceeded" reads better than "...Error"
    """The request's time is up; its work must not start (or continue)."""

    def __init__(self, overrun_s: float) -> None:
        super().__init__(f"request deadline passed {overrun_s * 1000:.0f} ms ago")
        self.overrun_s = overrun_s


class ClientGone(DeadlineExceeded):
    """The client has gone (its connection closed) before the work was done: none is started."""

    def __init__(self) -> None:
        super().__init__(0.0)


def client_gone() -> bool:
    """Whether the client of the request being served is known to have gone."""
    departure = DEPARTURE.get()
    return departure is not None and departure.done() and not departure.cancelled()


@contextlib.contextmanager
def cancelled_on_departure(cancel: Callable[[], Awaitable[object]]) -> Iterator[None]:
    """Run ``cancel`` (a connection's cancel of its running statement) if the client goes while
    the block runs: a checkout blocked on a lock stops, instead of committing an order its
    customer will never hear of. Work already committed stays (a retry with the same
    Idempotency-Key finds it)."""
    departure = DEPARTURE.get()
    if departure is None:
        yield
        return
    cancelling: list[asyncio.Future[object]] = []

    def on_departure(gone: asyncio.Future[Any]) -> None:
        if not gone.cancelled():
            cancelling.append(asyncio.ensure_future(cancel()))

    departure.add_done_callback(on_departure)
    try:
        yield
    finally:
        departure.remove_done_callback(on_departure)


def budget_s(header_value: bytes | None, default_s: float) -> float:
    """The time a request may take: the client's ``X-Request-Deadline-Ms`` if it is shorter than
    ``default_s``. A missing, malformed or non-positive value leaves the default."""
    if header_value is None:
        return default_s
    try:
        asked_ms = int(header_value)
    except ValueError:
        return default_s
    if asked_ms <= 0:
        return default_s
    return min(default_s, asked_ms / 1000)


def deadline_of(state: Mapping[str, Any]) -> float | None:
    """The request's absolute deadline, or None if nothing set one (a CLI call, a test)."""
    deadline = state.get(DEADLINE_KEY)
    return float(deadline) if deadline is not None else None


def remaining(state: Mapping[str, Any], now: float | None = None) -> float | None:
    """Seconds left before the deadline (negative once it has passed), or None without one."""
    deadline = deadline_of(state)
    if deadline is None:
        return None
    return deadline - (time.monotonic() if now is None else now)


def remaining_in_scope(scope: Mapping[str, Any]) -> float | None:
    """:func:`remaining` for an ASGI scope whose state carries the deadline."""
    return remaining(scope.get("state", {}))


def ensure_time_to_finish(margin_s: float = START_MARGIN_S, now: float | None = None) -> None:
    """Raise :class:`DeadlineExceeded` unless the current request has ``margin_s`` left: work
    started later could not be answered in time (nothing has been done yet). Raise
    :class:`ClientGone` if its client is known to have gone."""
    if client_gone():
        raise ClientGone
    left = remaining({DEADLINE_KEY: CURRENT.get()}, now)
    if left is not None and left < margin_s:
        raise DeadlineExceeded(margin_s - left)


def ensure_time_left(state: Mapping[str, Any], now: float | None = None) -> None:
    """Raise :class:`DeadlineExceeded` if the deadline has passed; call before starting work."""
    left = remaining(state, now)
    if left is not None and left <= 0:
        raise DeadlineExceeded(-left)


def bounded_timeout(state: Mapping[str, Any], ceiling_s: float, now: float | None = None) -> float:
    """A timeout for one wait (e.g. a pool acquire): ``ceiling_s``, cut to the time left.

    Raises :class:`DeadlineExceeded` rather than return a zero or negative timeout, which some
    APIs read as "wait forever".
    """
    left = remaining(state, now)
    if left is None:
        return ceiling_s
    if left <= 0:
        raise DeadlineExceeded(-left)
    return min(ceiling_s, left)
