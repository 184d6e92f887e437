"""The admission middleware around a tiny ASGI app whose requests stay in flight until released."""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest

from gourmet.asgi import Message, Receive, Scope, Send
from gourmet.resilience import deadline
from gourmet.resilience.admission import AdmissionMiddleware, Rule
from gourmet.resilience.answers import shed_page, wants_html
from gourmet.resilience.limiter import AdaptiveLimiter, LimiterConfig, Priority
from gourmet.routes import ADMISSION_RULES
from tests.polling import wait_until

pytestmark = pytest.mark.anyio

BLOCK = ("x-test-block", "1")  # the inner app holds the request until its gate opens
TRACK = ("GET", "/api/orders/tok")  # CRITICAL
CHECKOUT = ("POST", "/api/orders")
HISTORY = ("GET", "/api/account/orders")  # LOW, by the default priority


class GatedApp:
    """Answers 200 "ok"; with ``x-test-block`` waits for ``gate`` first, with ``x-test-stream``
    sends the response head before waiting, ``x-test-status`` sets the status, ``x-test-raise``
    fails."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.entered = 0
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        self.scopes.append(scope)
        headers = dict(scope.get("headers", []))
        if b"x-test-raise" in headers:
            raise RuntimeError("bug in a handler")
        start = {"type": "http.response.start", "status": int(headers.get(b"x-test-status", 200))}
        if b"x-test-stream" in headers:
            await send(start)
        if b"x-test-block" in headers:
            await self.gate.wait()
        if b"x-test-stream" not in headers:
            await send(start)
        await send({"type": "http.response.body", "body": b"ok"})


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def call(
    app: Any,
    method: str,
    path: str,
    *headers: tuple[str, str],
    sent: list[Message] | None = None,
    scope_type: str = "http",
) -> Reply:
    """One request through the ASGI interface, as a server would make it."""
    scope: Scope = {
        "type": scope_type,
        "method": method,
        "path": path,
        "headers": [(name.encode(), value.encode()) for name, value in headers],
    }
    messages: list[Message] = [] if sent is None else sent
    answered = asyncio.Event()
    body_sent = False

    async def receive() -> Message:
        # As an ASGI server does: the body once, then nothing until the client goes away
        # (here: once the response is complete).
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await answered.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        messages.append(message)

    try:
        await app(scope, receive, send)
    finally:
        answered.set()
    head = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    decoded = {name.decode(): value.decode() for name, value in head.get("headers", [])}
    return Reply(head["status"], decoded, body)


def fixed_limiter(limit: int) -> AdaptiveLimiter:
    return AdaptiveLimiter(LimiterConfig(initial_limit=limit, min_limit=limit, max_limit=limit))


def middleware(app: GatedApp, limiter: AdaptiveLimiter, **options: Any) -> AdmissionMiddleware:
    options.setdefault("rules", ADMISSION_RULES)
    return AdmissionMiddleware(app, limiter, rng=random.Random(7), **options)


async def test_under_saturation_low_is_shed_before_checkout_before_critical() -> None:
    app, limiter = GatedApp(), fixed_limiter(10)  # LOW fills 5, CHECKOUT 9, CRITICAL 10
    mw = middleware(app, limiter)
    held = [asyncio.create_task(call(mw, *TRACK, BLOCK)) for _ in range(6)]
    await wait_until(lambda: app.entered == 6)

    assert (await call(mw, *HISTORY)).status == 503
    held += [asyncio.create_task(call(mw, *CHECKOUT, BLOCK)) for _ in range(3)]
    await wait_until(lambda: app.entered == 9)
    assert (await call(mw, *CHECKOUT)).status == 503
    held.append(asyncio.create_task(call(mw, *TRACK, BLOCK)))
    await wait_until(lambda: app.entered == 10)  # CRITICAL still admitted at 9 in flight
    assert (await call(mw, *TRACK)).status == 503  # and refused only at the full limit

    assert mw.shed == {Priority.LOW: 1, Priority.CHECKOUT: 1, Priority.CRITICAL: 1}
    assert limiter.in_flight == 10
    app.gate.set()
    assert [reply.status for reply in await asyncio.gather(*held)] == [200] * 10
    assert limiter.in_flight == 0
    assert (await call(mw, *HISTORY)).status == 200


async def test_a_shed_request_gets_a_fast_problem_answer_with_retry_after() -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = middleware(app, limiter, retry_after_s=(1, 3))
    held = asyncio.create_task(call(mw, *TRACK, BLOCK))
    await wait_until(lambda: app.entered == 1)

    replies = [await call(mw, "GET", "/api/account/orders/7") for _ in range(20)]
    assert app.entered == 1  # none of them reached the application
    for reply in replies:
        assert reply.status == 503
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.headers["content-length"] == str(len(reply.body))
        retry = int(reply.headers["retry-after"])
        assert 1 <= retry <= 3
        problem = reply.json()
        assert problem["type"] == "/problems/overloaded"
        assert problem["title"] == "Too busy right now"
        assert problem["status"] == 503
        assert problem["retry_after_s"] == retry
        assert f"please retry in {retry} second" in problem["detail"]
        assert problem["instance"] == "/api/account/orders/7"
    # Jittered: a crowd refused together is not told to come back together.
    assert len({reply.headers["retry-after"] for reply in replies}) > 1
    app.gate.set()
    assert (await held).status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/menu"),
        ("HEAD", "/api/menu"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/metrics"),
        ("GET", "/static/app.js"),
    ],
)
async def test_paths_without_database_work_are_never_shed(method: str, path: str) -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = middleware(app, limiter)
    held = asyncio.create_task(call(mw, *TRACK, BLOCK))
    await wait_until(lambda: limiter.in_flight == 1)
    assert (await call(mw, *TRACK)).status == 503  # the limit is full...

    assert (await call(mw, method, path)).status == 200  # ...and this one still passes
    assert mw.bypassed == 1
    assert limiter.in_flight == 1  # nor did it take a slot
    assert (await call(mw, "POST", "/api/menu")).status == 503  # a write is limited
    app.gate.set()
    await held


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/api/orders/abc", Priority.CRITICAL),
        ("POST", "/api/staff/orders/3/status", Priority.CRITICAL),
        ("POST", "/api/orders", Priority.CHECKOUT),
        ("GET", "/api/slots", Priority.CHECKOUT),
        ("GET", "/api/orders", Priority.LOW),
        ("GET", "/api/reports/sales", Priority.LOW),
        ("GET", "/static", Priority.LOW),  # "/static/*" is the subtree, not the prefix "/static"
        ("GET", "/api/menu", None),
    ],
)
def test_requests_are_classified_by_method_and_path(
    method: str, path: str, expected: Priority | None
) -> None:
    assert middleware(GatedApp(), fixed_limiter(1)).classify(method, path) == expected


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("header", "expected_budget_s"),
    [
        (None, 3.0),  # the default
        ("500", 0.5),  # a client may ask for less
        ("10000", 3.0),  # never for more
        ("soon", 3.0),  # nor with nonsense
        ("-5", 3.0),
    ],
)
async def test_each_request_gets_a_deadline_the_client_may_shorten(
    header: str | None, expected_budget_s: float
) -> None:
    app = GatedApp()
    mw = middleware(app, fixed_limiter(4), deadline_s=3.0, clock=FakeClock(500.0))
    headers = [("x-request-deadline-ms", header)] if header is not None else []
    await call(mw, *HISTORY, *headers)
    state = app.scopes[0]["state"]
    assert state["deadline"] == pytest.approx(500.0 + expected_budget_s)
    assert deadline.remaining(state, now=500.25) == pytest.approx(expected_budget_s - 0.25)


async def test_never_limited_requests_get_a_deadline_too() -> None:
    app = GatedApp()
    await call(middleware(app, fixed_limiter(1), clock=FakeClock(10.0)), "GET", "/api/menu")
    assert app.scopes[0]["state"]["deadline"] == pytest.approx(13.0)


def test_deadline_helpers_bound_waits_by_the_time_left() -> None:
    state = {"deadline": 100.0}
    assert deadline.bounded_timeout(state, 2.0, now=99.0) == pytest.approx(1.0)
    assert deadline.bounded_timeout(state, 0.5, now=99.0) == pytest.approx(0.5)
    assert deadline.bounded_timeout({}, 0.5) == 0.5  # no deadline: the ceiling alone
    assert deadline.remaining({}) is None
    deadline.ensure_time_left(state, now=99.9)
    with pytest.raises(deadline.DeadlineExceeded) as exceeded:
        deadline.ensure_time_left(state, now=100.25)
    assert exceeded.value.overrun_s == pytest.approx(0.25)
    with pytest.raises(deadline.DeadlineExceeded):
        deadline.bounded_timeout(state, 2.0, now=100.0)


def adaptive_limiter() -> AdaptiveLimiter:
    """Every sample closes a window, so each request moves the limit."""
    config = LimiterConfig(initial_limit=20, window_s=0.0, window_min_samples=1)
    return AdaptiveLimiter(config)


async def test_an_overloaded_answer_from_the_app_counts_as_a_drop() -> None:
    limiter = adaptive_limiter()
    reply = await call(middleware(GatedApp(), limiter), *CHECKOUT, ("x-test-status", "503"))
    assert reply.status == 503
    assert limiter.dropped == 1
    assert limiter.limit == 18  # 20 x drop_backoff
    assert limiter.in_flight == 0


async def test_a_failing_request_frees_its_slot_without_a_sample() -> None:
    limiter = adaptive_limiter()
    with pytest.raises(RuntimeError):
        await call(middleware(GatedApp(), limiter), *CHECKOUT, ("x-test-raise", "1"))
    assert limiter.in_flight == 0
    assert limiter.windows == 0


async def test_a_stream_gives_its_slot_back_once_its_head_is_sent() -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = middleware(app, limiter)
    sent: list[Message] = []
    stream = asyncio.create_task(call(mw, *TRACK, BLOCK, ("x-test-stream", "1"), sent=sent))
    await wait_until(lambda: len(sent) == 1)
    assert not stream.done()  # still streaming...
    assert limiter.in_flight == 0  # ...without holding a slot
    assert (await call(mw, *TRACK)).status == 200
    app.gate.set()
    assert (await stream).body == b"ok"


async def test_non_http_scopes_pass_through_untouched() -> None:
    app = GatedApp()
    limiter = fixed_limiter(1)
    await call(middleware(app, limiter), "GET", "/", scope_type="lifespan")
    assert app.entered == 1
    assert "state" not in app.scopes[0]
    assert limiter.admitted == dict.fromkeys(Priority, 0)


@pytest.mark.parametrize(
    "options", [{"deadline_s": 0.0}, {"retry_after_s": (0, 3)}, {"retry_after_s": (3, 1)}]
)
def test_inconsistent_options_are_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        middleware(GatedApp(), fixed_limiter(1), **options)


def test_the_rule_index_agrees_with_first_match_wins() -> None:
    """Classification looks rules up by path and subtree; it must give what scanning the rules
    in order, first match winning, gives, for every rule's own path and paths around it."""
    rules = (
        *ADMISSION_RULES,
        Rule("/api/*", Priority.CHECKOUT, frozenset({"PUT"})),
        Rule("/*", None),
    )
    paths = {"", "/", "/nowhere", "/api/", "/api/orders/", "/api/orders/t/payment", "/api/menux"}
    for rule in rules:
        base = rule.pattern.removesuffix("*")
        paths |= {base, base + "x", base + "x/y", base.rstrip("/"), base + "/"}
    for rules_used in (ADMISSION_RULES, rules):
        middleware = AdmissionMiddleware(_noop_app, AdaptiveLimiter(), rules=rules_used)
        for path in sorted(paths):
            for method in ("GET", "HEAD", "POST", "PUT", "DELETE"):
                scanned = next(
                    (rule.priority for rule in rules_used if rule.matches(method, path)),
                    Priority.LOW,
                )
                assert middleware.classify(method, path) == scanned, (method, path)


def test_pages_are_classified_for_customers_first() -> None:
    middleware = AdmissionMiddleware(_noop_app, AdaptiveLimiter(), rules=ADMISSION_RULES)
    assert middleware.classify("GET", "/") is None  # rendered from the menu cache
    assert middleware.classify("GET", "/checkout") is None
    assert middleware.classify("GET", "/status") is None
    assert middleware.classify("GET", "/orders/some-token") is Priority.CRITICAL
    assert middleware.classify("GET", "/api/ops/series") is Priority.CRITICAL
    assert middleware.classify("POST", "/api/orders/some-token/payment") is Priority.CHECKOUT


def test_a_browser_gets_a_busy_page_not_json() -> None:
    headers, body = shed_page(2)
    assert (b"content-type", b"text/html; charset=utf-8") in headers
    assert (b"retry-after", b"2") in headers
    text = body.decode()
    assert "We are very busy right now" in text
    assert 'http-equiv="refresh" content="2"' in text
    assert wants_html({"headers": [(b"accept", b"text/html,application/xhtml+xml")]})
    assert not wants_html({"headers": [(b"accept", b"application/json")]})


async def _noop_app(scope: Any, receive: Any, send: Any) -> None:
    return None


def test_work_does_not_start_without_the_time_to_answer() -> None:
    """A request with less than START_MARGIN_S left starts no database work: its order would
    be placed but reach a client that has given up (placed but never acknowledged)."""
    token = deadline.CURRENT.set(100.0)
    try:
        deadline.ensure_time_to_finish(now=100.0 - deadline.START_MARGIN_S - 0.01)
        with pytest.raises(deadline.DeadlineExceeded) as short:
            deadline.ensure_time_to_finish(now=100.0 - deadline.START_MARGIN_S + 0.05)
        assert short.value.overrun_s == pytest.approx(0.05)
    finally:
        deadline.CURRENT.reset(token)
    deadline.ensure_time_to_finish(now=1e12)  # no deadline (background work): never refused
