"""Admission control at the front door: stamp a deadline, then admit or shed before any work.

A plain ASGI middleware (the shape of encode/starlette's ``middleware/``), meant to wrap the whole
application so that a refused request costs neither routing nor a database connection. Each HTTP
request is classified by method and path into a :class:`Priority`, or into "never limited" for what
never touches the database (the cached menu, health, metrics, static files). A limited request asks
the :class:`AdaptiveLimiter` (which lets a burst wait a few milliseconds, never a standing queue);
a refusal is answered with 503, a jittered ``Retry-After`` and a problem+json body, so that under
a stampede excess clients hear "later" in microseconds instead of waiting 30 seconds for a
connection that never comes. Checkout is the exception: an order attempt that does not fit waits
its turn in the waiting room (:mod:`gourmet.resilience.waiting_room`), its body read first, so that
a client that leaves while waiting is noticed and its order never started.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gourmet.asgi import ASGIApp, Message, Receive, Scope, Send
from gourmet.config import AdmissionSettings, ServerSettings, group_default
from gourmet.problems import Problem
from gourmet.resilience import deadline
from gourmet.resilience.answers import (
    Replay,
    header,
    line_response,
    send_problem,
    shed_page,
    shed_response,
    wants_html,
)
from gourmet.resilience.body_deadline import read_body
from gourmet.resilience.idempotency_key import check_idempotency_key
from gourmet.resilience.limiter import AdaptiveLimiter, Permit, Priority
from gourmet.resilience.line_policy import LinePolicy
from gourmet.resilience.waiting_room import TICKET_HEADER, Tickets, Turn, WaitingRoom

READS = frozenset({"GET", "HEAD"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Answers from the inner application that mean "no capacity" (pool timeout, deadline passed): the
# limiter must hear them as congestion, not as fast successes.
OVERLOAD_STATUSES = frozenset({503, 504})


@dataclass(frozen=True, slots=True)
class Rule:
    """Requests to ``pattern`` (exact, or a whole subtree when it ends in ``/*``) with one of
    ``methods`` (any method if None) get ``priority``; a None priority means never limited.
    ``queued`` requests wait in the waiting room when their class is full, instead of a 503."""

    pattern: str
    priority: Priority | None
    methods: frozenset[str] | None = None
    queued: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.pattern.endswith("/*"):
            return path.startswith(self.pattern[:-1])
        return path == self.pattern


class AdmissionMiddleware:
    """Stamps every HTTP request's deadline and admits or sheds the limited ones.

    Counters for the metrics layer: ``bypassed`` (never-limited requests), ``shed`` (refusals by
    priority); the limiter (``self.limiter``) holds the limit, in-flight and admitted figures.
    """

    def __init__(
        self,
        app: ASGIApp,
        limiter: AdaptiveLimiter,
        *,
        rules: Sequence[Rule],
        default_priority: Priority = Priority.LOW,
        deadline_s: float = group_default(AdmissionSettings, "deadline_s"),
        retry_after_s: tuple[int, int] = group_default(AdmissionSettings, "shed_retry_after_s"),
        room: WaitingRoom | None = None,
        tickets: Tickets | None = None,
        hold_s: float = group_default(AdmissionSettings, "waiting_room_hold_s"),
        checkout_budget_s: float = group_default(AdmissionSettings, "checkout_budget_s"),
        max_body_bytes: int = group_default(ServerSettings, "max_body_bytes"),
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        if deadline_s <= 0:
            raise ValueError("deadline_s must be positive")
        if not 1 <= retry_after_s[0] <= retry_after_s[1]:
            raise ValueError("retry_after_s must be (low, high) with 1 <= low <= high")
        self.app = app
        self.limiter = limiter
        self.rules = tuple(rules)
        # The rules indexed by exact path and by subtree prefix, so that classifying a request
        # is a few dictionary lookups instead of a scan of every rule.
        self._exact: dict[str, list[tuple[int, Rule]]] = {}
        self._subtrees: dict[str, list[tuple[int, Rule]]] = {}
        for index, rule in enumerate(self.rules):
            if rule.pattern.endswith("/*"):
                self._subtrees.setdefault(rule.pattern[:-1], []).append((index, rule))
            else:
                self._exact.setdefault(rule.pattern, []).append((index, rule))
        self.default_priority = default_priority
        self.deadline_s = deadline_s
        self.retry_after_s = retry_after_s
        self.room = room
        self._tickets = tickets
        # The timing of attempts that may wait in line: their budget from arrival, their hold.
        self.line = LinePolicy(budget_s=checkout_budget_s, serve_s=deadline_s, hold_s=hold_s)
        self._max_body_bytes = max_body_bytes
        self._clock = clock
        self._wall_clock = wall_clock
        # Jitter spreads the retries of a crowd refused in the same instant over several seconds,
        # so that they do not all come back at once and get refused together again.
        self._rng = rng or random.Random()
        self.bypassed = 0
        self.shed = dict.fromkeys(Priority, 0)

    def classify(self, method: str, path: str) -> Priority | None:
        return self._match(method, path)[0]

    def _match(self, method: str, path: str) -> tuple[Priority | None, tuple[int, str]]:
        """The request's priority, and its kind for the limiter: the rule it matched (-1 for
        none) and its method, so that each kind's latency is judged against its own."""
        best: tuple[int, Rule] | None = None
        for index, rule in self._exact.get(path, ()):
            if rule.methods is None or method in rule.methods:
                best = (index, rule)
                break
        slash = path.find("/")
        while slash != -1:  # every subtree the path is in: "/", "/api/", "/api/orders/", ...
            for index, rule in self._subtrees.get(path[: slash + 1], ()):
                if best is not None and index > best[0]:
                    break
                if rule.methods is None or method in rule.methods:
                    best = (index, rule)
                    break
            slash = path.find("/", slash + 1)
        if best is None:
            return self.default_priority, (-1, method)
        return best[1].priority, (best[0], method)

    def _queued(self, kind: tuple[int, str]) -> bool:
        return self.room is not None and kind[0] >= 0 and self.rules[kind[0]].queued

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets pass through untouched
            await self.app(scope, receive, send)
            return
        priority, kind = self._match(scope["method"], scope["path"])
        token = deadline.CURRENT.set(self._stamp_deadline(scope, queued=self._queued(kind)))
        try:
            await self._admit(scope, receive, send, priority, kind)
        finally:
            deadline.CURRENT.reset(token)

    async def _admit(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        priority: Priority | None,
        kind: tuple[int, str],
    ) -> None:
        if priority is None:
            self.bypassed += 1
            await self.app(scope, receive, send)
            return
        if self._queued(kind):
            await self._wait_in_line(scope, receive, send, priority, kind)
            return
        if scope["method"] in BODY_METHODS:
            # The body first, within the deadline: a client sending it a byte a second holds
            # no slot that others could use while it trickles in.
            body = await self._read_body(scope, receive, send)
            if body is None:
                return
            receive = Replay(body, receive)
        permit = await self.limiter.acquire(priority, kind)
        if permit is None:
            self.shed[priority] += 1
            await self._shed(scope, send)
            return
        await self._run_admitted(scope, receive, send, permit)

    async def _run_admitted(
        self, scope: Scope, receive: Receive, send: Send, permit: Permit
    ) -> None:
        async def reporting_send(message: Message) -> None:
            # Report at the response head, not at the end of the body: a server-sent event stream
            # stays open for minutes, and counting it would pin a slot and fake a huge latency.
            # The database work behind a response is done by the time its head is sent.
            if message["type"] == "http.response.start" and not permit.done:
                if message["status"] in OVERLOAD_STATUSES:
                    permit.dropped()
                else:
                    permit.success()
            await send(message)

        try:
            await self.app(scope, receive, reporting_send)
        finally:
            # Still open only if no response was started: an exception or a cancelled request.
            # Neither says anything about load, but the slot must be given back.
            permit.ignore()

    def _stamp_deadline(self, scope: Scope, *, queued: bool = False) -> float:
        asked = header(scope, deadline.DEADLINE_HEADER)
        now = self._clock()
        if queued:  # one budget from arrival, the wait in line taken from it (line_policy.py)
            instant = self.line.deadline(now, asked)
        else:
            instant = now + deadline.budget_s(asked, self.deadline_s)
        scope.setdefault("state", {})[deadline.DEADLINE_KEY] = instant
        return instant

    # -- the waiting room ---------------------------------------------------------------------

    async def _wait_in_line(
        self, scope: Scope, receive: Receive, send: Send, priority: Priority, kind: tuple[int, str]
    ) -> None:
        """Read the body, wait in line for a permit (leaving if the client goes), then serve the
        request with what is left of its budget; or answer with the place."""
        assert self.room is not None
        key = header(scope, b"idempotency-key")
        try:
            # Checkout's own rule, before the key is kept or even hashed: the server accepts
            # headers of hundreds of kilobytes, and the room remembers keys for minutes.
            check_idempotency_key(None if key is None else key.decode("latin-1"))
        except Problem as refused:
            await send_problem(scope, send, refused.status_code, refused.detail)
            return
        first_at = None
        if self._tickets is not None:
            first_at = self._tickets.first_at(header(scope, TICKET_HEADER), key)
        if first_at is None:
            first_at = self._wall_clock()
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        gone = asyncio.ensure_future(receive())  # answers only once the client is gone
        try:
            hold = self.line.hold(deadline.remaining_in_scope(scope) or 0.0)
            held_until = self._clock() + hold
            waiting = asyncio.ensure_future(self.room.wait_turn(first_at, kind, hold, key))
            await asyncio.wait({waiting, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not waiting.done():  # the client left the line: nothing was started for it
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
                return
            outcome = waiting.result()
            if isinstance(outcome, Turn):
                self.shed[priority] += 1
                # A customer back before the time we gave them (ignoring Retry-After) hears
                # again only at the end of the hold: a retry storm then waits on timers instead
                # of spinning through instant refusals that take the CPU checkouts need
                # (bench.retrying, RETRY_STORM_WAIT_S=0). Those who keep their time are answered
                # at once: holding them all would fill the server's connection cap.
                rest = held_until - self._clock()
                if outcome.early and rest > 0:
                    await asyncio.wait({gone}, timeout=rest)
                    if gone.done():
                        return
                await self._answer_turn(scope, send, outcome, key, first_at)
                return
            state = scope["state"]
            admitted_deadline = self.line.admitted_deadline(
                state[deadline.DEADLINE_KEY], self._clock()
            )
            state[deadline.DEADLINE_KEY] = admitted_deadline
            token = deadline.CURRENT.set(admitted_deadline)
            watched = deadline.DEPARTURE.set(gone)  # nothing committed for a client gone
            try:
                after = functools.partial(asyncio.shield, gone)  # the read-ahead saw it go
                await self._run_admitted(scope, Replay(body, after), send, outcome)
            finally:
                deadline.DEPARTURE.reset(watched)
                deadline.CURRENT.reset(token)
        finally:
            gone.cancel()

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole request body, within the request's time and size; None once answered (too
        large, too slow) or when the client went away."""
        timeout_s = max(deadline.remaining_in_scope(scope) or 0.0, 0.0)
        body, _ = await read_body(scope, receive, send, timeout_s, self._max_body_bytes)
        return body

    async def _answer_turn(
        self, scope: Scope, send: Send, turn: Turn, key: bytes | None, first_at: float
    ) -> None:
        retry_after = self.line.retry_after(turn)
        if retry_after is None:  # no estimate yet: as any refusal
            retry_after = self._rng.randint(*self.retry_after_s)
        ticket = None
        if self._tickets is not None and key:
            ticket = self._tickets.issue(key, first_at)
        if self.room is not None and key:
            self.room.expect_back(key, retry_after)
        headers, body = line_response(scope["path"], turn, retry_after, ticket)
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _shed(self, scope: Scope, send: Send) -> None:
        retry_after = self._rng.randint(*self.retry_after_s)
        if wants_html(scope):
            headers, body = shed_page(retry_after)
        else:
            headers, body = shed_response(scope["path"], retry_after)
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
