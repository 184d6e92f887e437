"""Admission control at the front door: stamp a deadline, then admit or shed before any work.

A plain ASGI middleware (the shape of encode/starlette's ``middleware/``), meant to wrap the whole
application so that a refused request costs neither routing nor a database connection. Each HTTP
request is classified by method and path into a :class:`Priority`, or into "never limited" for what
never touches the database (the cached menu, health, metrics, static files). A limited request asks
the :class:`AdaptiveLimiter` (which lets a burst wait a few milliseconds, never a standing queue);
a refusal is answered with 503, a jittered ``Retry-After`` and a problem+json body, so that under
a stampede excess clients hear "later" in microseconds instead of waiting 30 seconds for a
connection that never comes.
"""

from __future__ import annotations

import functools
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gourmet.asgi import ASGIApp, Message, Receive, Scope, Send
from gourmet.config import setting_default
from gourmet.resilience import deadline
from gourmet.resilience.limiter import AdaptiveLimiter, Priority

READS = frozenset({"GET", "HEAD"})
# Answers from the inner application that mean "no capacity" (pool timeout, deadline passed): the
# limiter must hear them as congestion, not as fast successes.
OVERLOAD_STATUSES = frozenset({503, 504})


@dataclass(frozen=True, slots=True)
class Rule:
    """Requests to ``pattern`` (exact, or a whole subtree when it ends in ``/*``) with one of
    ``methods`` (any method if None) get ``priority``; a None priority means never limited."""

    pattern: str
    priority: Priority | None
    methods: frozenset[str] | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.pattern.endswith("/*"):
            return path.startswith(self.pattern[:-1])
        return path == self.pattern


@functools.cache
def _shed_problem_head(retry_after_s: int) -> bytes:
    """The problem+json body of a refusal up to its ``instance``, the only part that varies:
    under a 10x spike the server writes thousands of these a second."""
    unit = "second" if retry_after_s == 1 else "seconds"
    fields = {
        "type": "/problems/overloaded",
        "title": "Too busy right now",
        "status": 503,
        "detail": "We are very busy. Your request was not processed; "
        f"please retry in {retry_after_s} {unit}.",
        "retry_after_s": retry_after_s,
    }
    return json.dumps(fields, separators=(",", ":"))[:-1].encode() + b',"instance":'


def shed_response(path: str, retry_after_s: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of the 503 for a refused request: RFC 9457 problem details."""
    body = _shed_problem_head(retry_after_s) + json.dumps(path).encode() + b"}"
    return _refusal_headers(b"application/problem+json", body, retry_after_s), body


def _refusal_headers(
    content_type: bytes, body: bytes, retry_after_s: int
) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-type", content_type),
        (b"content-length", str(len(body)).encode()),
        (b"retry-after", str(retry_after_s).encode()),
        (b"cache-control", b"no-store"),
    ]


# A browser gets a page, not JSON: kind words, and it retries by itself after Retry-After.
_SHED_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    '<meta http-equiv="refresh" content="{s}"><title>Very busy: Gourmet Delights</title>'
    "</head><body><main><h1>We are very busy right now</h1>"
    "<p>So many people are ordering that we could not open this page. Nothing was lost: "
    "this page tries again by itself in {s} seconds.</p>"
    '<p><a href="/status">See our status page</a></p></main></body></html>'
)


def shed_page(retry_after_s: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = _SHED_PAGE.format(s=retry_after_s).encode()
    return _refusal_headers(b"text/html; charset=utf-8", body, retry_after_s), body


def _wants_html(scope: Scope) -> bool:
    accept = next((v for k, v in scope.get("headers", ()) if k == b"accept"), b"")
    return b"text/html" in accept


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
        deadline_s: float = setting_default("deadline_s"),
        retry_after_s: tuple[int, int] = setting_default("shed_retry_after_s"),
        clock: Callable[[], float] = time.monotonic,
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
        self._clock = clock
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets pass through untouched
            await self.app(scope, receive, send)
            return
        token = deadline.CURRENT.set(self._stamp_deadline(scope))
        try:
            await self._admit(scope, receive, send)
        finally:
            deadline.CURRENT.reset(token)

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        priority, kind = self._match(scope["method"], scope["path"])
        if priority is None:
            self.bypassed += 1
            await self.app(scope, receive, send)
            return
        permit = await self.limiter.acquire(priority, kind)
        if permit is None:
            self.shed[priority] += 1
            await self._shed(scope, send)
            return

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

    def _stamp_deadline(self, scope: Scope) -> float:
        asked = next(
            (value for name, value in scope.get("headers", ()) if name == deadline.DEADLINE_HEADER),
            None,
        )
        instant = self._clock() + deadline.budget_s(asked, self.deadline_s)
        scope.setdefault("state", {})[deadline.DEADLINE_KEY] = instant
        return instant

    async def _shed(self, scope: Scope, send: Send) -> None:
        retry_after = self._rng.randint(*self.retry_after_s)
        if _wants_html(scope):
            headers, body = shed_page(retry_after)
        else:
            headers, body = shed_response(scope["path"], retry_after)
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
