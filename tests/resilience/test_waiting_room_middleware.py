"""The waiting room around the app: an order attempt waits its turn in the admission middleware
instead of a 503, gets a ticket when not served in time, starts nothing when its client leaves,
and the body read ahead reaches the app."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
from typing import Any

import pydantic
import pytest

from gourmet.asgi import Message, Scope
from gourmet.config import AdmissionSettings, ServerSettings, Settings
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.limiter import AdaptiveLimiter, Priority
from gourmet.resilience.waiting_room import Tickets, WaitingRoom
from gourmet.routes import ADMISSION_RULES
from tests.polling import wait_until
from tests.resilience.test_admission import BLOCK, GatedApp, call, fixed_limiter

pytestmark = pytest.mark.anyio

KEY = b"3f2a9c1e-order-key"


# -- the middleware around it -----------------------------------------------------------------


def queued_middleware(app: GatedApp, limiter: AdaptiveLimiter, **options: Any) -> Any:
    return AdmissionMiddleware(
        app,
        limiter,
        rules=ADMISSION_RULES,
        room=WaitingRoom(limiter, size=options.pop("size", 10)),
        tickets=Tickets(b"secret"),
        rng=random.Random(7),
        **options,
    )


async def test_an_order_attempt_waits_its_turn_instead_of_a_503() -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = queued_middleware(app, limiter, hold_s=5)
    first = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)
    second = asyncio.create_task(call(mw, "POST", "/api/orders"))
    await wait_until(lambda: len(mw.room) == 1)
    app.gate.set()
    assert (await first).status == 200
    assert (await second).status == 200  # served once the first one finished
    assert mw.shed[Priority.CHECKOUT] == 0


async def test_an_attempt_not_served_in_time_gets_its_place_and_a_ticket_that_keeps_it() -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = queued_middleware(app, limiter, hold_s=0.1)
    held = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)

    reply = await call(mw, "POST", "/api/orders", ("idempotency-key", KEY.decode()))
    assert reply.status == 503
    assert reply.headers["content-type"] == "application/problem+json"
    problem = reply.json()
    assert problem["type"] == "/problems/waiting-room"
    assert problem["place_in_line"] == 1
    assert problem["retry_after_s"] == int(reply.headers["retry-after"]) >= 1
    assert "not placed yet" in problem["detail"]
    assert problem["ticket"] == reply.headers["gourmet-ticket"]

    # Meanwhile a newcomer is waiting; the customer coming back with the ticket goes first.
    newcomer = asyncio.create_task(call(mw, "POST", "/api/orders", ("x-test-status", "201")))
    await wait_until(lambda: len(mw.room) == 1)
    mw.line = dataclasses.replace(mw.line, hold_s=5)
    returning = asyncio.create_task(
        call(
            mw,
            "POST",
            "/api/orders",
            ("idempotency-key", KEY.decode()),
            ("gourmet-ticket", problem["ticket"]),
            ("x-test-status", "200"),
        )
    )
    await wait_until(lambda: len(mw.room) == 2)
    app.gate.set()
    await held
    statuses_in_order: list[int] = []
    for task in asyncio.as_completed([newcomer, returning]):
        statuses_in_order.append((await task).status)
    assert statuses_in_order == [200, 201], "the ticket holder was served first"


async def test_a_client_that_leaves_the_line_starts_nothing() -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = queued_middleware(app, limiter, hold_s=5)
    held = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)

    gone = asyncio.Event()
    sent: list[Message] = []
    messages = iter([{"type": "http.request", "body": b'{"a":', "more_body": True}])

    async def receive() -> Message:
        message = next(messages, None)
        if message is not None:
            return message
        if not sent_body[0]:
            sent_body[0] = True
            return {"type": "http.request", "body": b"1}", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    sent_body = [False]

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/api/orders", "headers": []}
    leaving = asyncio.create_task(mw(scope, receive, send))
    await wait_until(lambda: len(mw.room) == 1)
    gone.set()
    await leaving
    assert sent == []
    assert len(mw.room) == 0
    assert mw.room.left == 1
    app.gate.set()
    await held
    assert app.entered == 1, "the order attempt never reached the app"
    assert limiter.in_flight == 0


async def test_the_app_reads_the_body_the_line_read_ahead() -> None:
    limiter = fixed_limiter(2)
    bodies: list[bytes] = []

    async def echo(scope: Scope, receive: Any, send: Any) -> None:
        message = await receive()
        bodies.append(message["body"])
        assert not message["more_body"]
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    mw = AdmissionMiddleware(
        echo, limiter, rules=ADMISSION_RULES, room=WaitingRoom(limiter, size=4), max_body_bytes=64
    )
    chunks = iter([b'{"lines":', b"[1, 2]}"])

    async def receive() -> Message:
        chunk = next(chunks)
        return {"type": "http.request", "body": chunk, "more_body": chunk != b"[1, 2]}"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/api/orders", "headers": []}
    await mw(scope, receive, send)
    assert bodies == [b'{"lines":[1, 2]}']
    assert sent[0]["status"] == 201

    too_big = iter([b"x" * 65])
    sent.clear()

    async def receive_big() -> Message:
        return {"type": "http.request", "body": next(too_big), "more_body": False}

    await mw(dict(scope), receive_big, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["status"] == 413


async def test_a_body_that_trickles_in_holds_no_slot_and_ends_at_the_deadline() -> None:
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = AdmissionMiddleware(app, limiter, rules=ADMISSION_RULES, deadline_s=0.3)
    sent: list[Message] = []
    stalled = asyncio.Event()

    async def trickle() -> Message:
        if not stalled.is_set():
            stalled.set()
            return {"type": "http.request", "body": b'{"em', "more_body": True}
        await asyncio.Event().wait()  # the rest never comes
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {"type": "http", "method": "POST", "path": "/api/session", "headers": []}
    slow = asyncio.create_task(mw(scope, trickle, send))
    await wait_until(stalled.is_set)
    # Meanwhile the only slot is free for others.
    assert limiter.in_flight == 0
    assert (await call(mw, "GET", "/api/orders/tok")).status == 200
    await slow
    assert sent[0]["status"] == 408
    assert json.loads(sent[1]["body"])["type"] == "/problems/body-too-slow"
    assert app.entered == 1  # only the status read reached the app


async def test_a_customer_back_before_their_time_hears_again_only_after_the_hold() -> None:
    """A client that ignores Retry-After and tries again at once gets its next answer only after
    the hold: it waits on a timer, not in a tight loop of instant refusals. One that keeps its
    time is answered at once (holding everyone would fill the connection cap)."""
    app, limiter = GatedApp(), fixed_limiter(1)
    mw = queued_middleware(app, limiter, hold_s=0.3, size=0)  # no line: turned away at once
    held = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)
    loop = asyncio.get_running_loop()
    key = ("idempotency-key", KEY.decode())

    started = loop.time()
    first = await call(mw, "POST", "/api/orders", key)
    assert first.status == 503
    assert loop.time() - started < 0.3  # on time (a first attempt): answered at once
    assert int(first.headers["retry-after"]) >= 1

    started = loop.time()
    again = await call(mw, "POST", "/api/orders", key)  # at once, not after Retry-After
    assert again.json()["type"] == "/problems/waiting-room"
    assert loop.time() - started >= 0.29  # the hold, less the loop clock's resolution
    app.gate.set()
    await held


def test_a_line_that_would_take_the_whole_connection_cap_is_refused_at_startup() -> None:
    with pytest.raises(pydantic.ValidationError, match="WAITING_ROOM_SIZE"):
        Settings(
            admission=AdmissionSettings(waiting_room_size=3500),
            server=ServerSettings(max_connections=4096),
        )
    assert (
        Settings(
            admission=AdmissionSettings(waiting_room_size=3000),
            server=ServerSettings(max_connections=4096),
        ).admission.waiting_room_size
        == 3000
    )
