"""The waiting room: its order, its bounds, its tickets, and the admission middleware around it
(a client that leaves the line starts nothing; the body waits with it)."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pydantic
import pytest

from gourmet.asgi import Message, Scope
from gourmet.config import Settings
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.limiter import AdaptiveLimiter, Permit, Priority
from gourmet.resilience.waiting_room import Tickets, Turn, WaitingRoom
from gourmet.routes import ADMISSION_RULES
from tests.polling import wait_until
from tests.resilience.test_admission import BLOCK, GatedApp, call, fixed_limiter

pytestmark = pytest.mark.anyio

KEY = b"3f2a9c1e-order-key"


def room_of(limit: int, size: int = 10) -> tuple[AdaptiveLimiter, WaitingRoom]:
    limiter = fixed_limiter(limit)
    return limiter, WaitingRoom(limiter, size=size)


async def settled(tasks: list[asyncio.Task[Permit | Turn]]) -> list[Permit | Turn]:
    await asyncio.sleep(0)
    return [task.result() for task in tasks if task.done()]


async def test_places_go_by_first_attempt_not_by_arrival() -> None:
    limiter, room = room_of(1)
    holder = limiter.admit(Priority.CHECKOUT)
    # Arriving in the order 30, 10, 20 (seconds of their first attempts).
    waits = {
        first_at: asyncio.create_task(room.wait_turn(first_at, "checkout", hold_s=5))
        for first_at in (30.0, 10.0, 20.0)
    }
    await wait_until(lambda: len(room) == 3)
    served: list[float] = []
    permit: Permit = holder
    for _ in range(3):
        permit.success()
        await asyncio.sleep(0)
        done = [first_at for first_at, task in waits.items() if task.done()]
        assert len(done) == len(served) + 1, "one slot freed, one customer served"
        served.append(next(f for f in done if f not in served))
        result = waits[served[-1]].result()
        assert isinstance(result, Permit)
        permit = result
    assert served == [10.0, 20.0, 30.0]
    permit.success()
    assert limiter.in_flight == 0
    assert (room.served, room.waited, room.timed_out) == (3, 3, 0)


async def test_a_newcomer_waits_behind_the_line_even_when_a_slot_frees() -> None:
    limiter, room = room_of(1)
    holder = limiter.admit(Priority.CHECKOUT)
    early = asyncio.create_task(room.wait_turn(1.0, "checkout", hold_s=5))
    await wait_until(lambda: len(room) == 1)
    holder.success()  # the slot goes to the one waiting, not to whoever asks next
    late = await room.wait_turn(2.0, "checkout", hold_s=0.05)
    assert isinstance(late, Turn)
    assert late.place == 1  # nobody waiting any more: next in line
    first = await early
    assert isinstance(first, Permit)
    first.success()


async def test_a_full_line_turns_away_latecomers_and_gives_earlier_customers_a_place() -> None:
    limiter, room = room_of(1, size=2)
    holder = limiter.admit(Priority.CHECKOUT)
    waiting = [
        asyncio.create_task(room.wait_turn(first_at, "checkout", hold_s=5))
        for first_at in (10.0, 20.0)
    ]
    await wait_until(lambda: len(room) == 2)

    turned_away = await room.wait_turn(30.0, "checkout", hold_s=5)
    assert turned_away == Turn(place=3, wait_s=None)  # nothing served lately: no estimate

    earlier = asyncio.create_task(room.wait_turn(15.0, "checkout", hold_s=5))
    await wait_until(lambda: waiting[1].done())  # the last one's place went to 15
    evicted = waiting[1].result()
    assert isinstance(evicted, Turn)
    assert evicted.place == 3  # behind 10 and 15
    assert len(room) == 2
    assert (room.turned_away, room.evicted) == (1, 1)

    holder.success()
    first = await waiting[0]
    assert isinstance(first, Permit)
    first.success()
    second = await earlier
    assert isinstance(second, Permit)
    second.success()


async def test_a_customer_held_to_the_end_of_the_hold_hears_their_place_and_an_estimate() -> None:
    limiter, room = room_of(1)
    limiter.admit(Priority.CHECKOUT).success()  # one place given: a service rate to go by
    room._note_served()
    holder = limiter.admit(Priority.CHECKOUT)
    ahead = asyncio.create_task(room.wait_turn(1.0, "checkout", hold_s=5))
    await wait_until(lambda: len(room) == 1)
    turn = await room.wait_turn(2.0, "checkout", hold_s=0.05)
    assert isinstance(turn, Turn)
    assert turn.place == 2
    assert turn.wait_s is not None
    assert turn.wait_s > 0
    assert room.timed_out == 1
    assert len(room) == 1  # it left the line
    holder.success()
    permit = await ahead
    assert isinstance(permit, Permit)
    permit.success()


async def test_a_customer_sent_back_returns_when_the_line_can_hold_them() -> None:
    """Back when their place is halfway into the line's reach: earlier, the line is still full
    of those before them and they would be sent back again at once, a try for nothing."""
    now = [100.0]
    limiter = fixed_limiter(1)
    room = WaitingRoom(limiter, size=40, clock=lambda: now[0])
    for _ in range(50):  # 50 places in the last 5 s: 10 a second
        room._note_served()
    holder = limiter.admit(Priority.CHECKOUT)
    for n in range(49):  # 49 earlier customers, sent back and coming again
        await room.wait_turn(float(n), "checkout", hold_s=0, key=f"early-{n}".encode())
    turn = await room.wait_turn(200.0, "checkout", hold_s=0, key=KEY)
    assert isinstance(turn, Turn)
    assert (turn.place, turn.wait_s, turn.reach_s) == (50, 5.0, 4.0)  # 40 held, at 10 a second
    # In 3 s, 30 are served: the customer is 20th, halfway into a line of 40, and waits there.
    assert turn.back_in_s(hold_s=10) == 3.0
    # A short hold bounds the reach, and then no later than four fifths of the estimate.
    assert turn.back_in_s(hold_s=1) == 4.0
    long_wait = Turn(place=1000, wait_s=100.0, reach_s=4.0)
    assert long_wait.back_in_s(hold_s=10) == 80.0  # an estimate can be off by more than 2 s
    assert Turn(place=3, wait_s=None).back_in_s(hold_s=10) is None
    holder.success()


async def test_a_customer_who_leaves_gives_back_a_place_given_at_that_instant() -> None:
    limiter, room = room_of(1)
    holder = limiter.admit(Priority.CHECKOUT)
    leaving = asyncio.create_task(room.wait_turn(1.0, "checkout", hold_s=5))
    await wait_until(lambda: len(room) == 1)
    holder.success()  # the place is given to the waiter...
    leaving.cancel()  # ...whose client goes away before it runs
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert limiter.in_flight == 0, "the permit was handed back"
    assert room.left == 1
    again = await room.wait_turn(2.0, "checkout", hold_s=1)
    assert isinstance(again, Permit)
    again.success()


# -- tickets ----------------------------------------------------------------------------------


def test_a_ticket_proves_the_first_attempt_for_its_own_order_only() -> None:
    now = [1_000_000.0]
    tickets = Tickets(b"secret", clock=lambda: now[0])
    ticket = tickets.issue(KEY, 999_990.5).encode()
    assert tickets.first_at(ticket, KEY) == 999_990.5
    assert tickets.first_at(ticket, b"another-order") is None
    assert Tickets(b"other secret").first_at(ticket, KEY) is None
    forged = ticket.replace(b".999990500.", b".999000000.")
    assert tickets.first_at(forged, KEY) is None
    for broken in (b"", b"1.2", b"2.999990500.xx", "1.9é.x".encode(), b"1.-5.abc"):
        assert tickets.first_at(broken, KEY) is None
    now[0] += 16 * 60  # older than a customer's patience: a new arrival
    assert tickets.first_at(ticket, KEY) is None


def test_a_ticket_from_the_future_counts_from_now() -> None:
    tickets = Tickets(b"secret", clock=lambda: 500.0)
    assert tickets.first_at(tickets.issue(KEY, 900.0).encode(), KEY) == 500.0


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
    mw.hold_s = 5
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


async def test_customers_sent_back_keep_counting_in_line_until_they_are_served() -> None:
    limiter, room = room_of(1, size=1)
    holder = limiter.admit(Priority.CHECKOUT)
    waiting = asyncio.create_task(room.wait_turn(1.0, "checkout", hold_s=5, key=b"first"))
    await wait_until(lambda: len(room) == 1)
    # The line is full: two later customers are sent back, and remembered as away.
    second = await room.wait_turn(2.0, "checkout", hold_s=5, key=b"second")
    third = await room.wait_turn(3.0, "checkout", hold_s=5, key=b"third")
    assert isinstance(second, Turn)
    assert isinstance(third, Turn)
    assert (second.place, third.place) == (2, 3)
    assert room.away == 2

    holder.success()
    first = await waiting
    assert isinstance(first, Permit)
    # The second customer comes back, earlier than the third: served next, and no longer away.
    again = asyncio.create_task(room.wait_turn(2.0, "checkout", hold_s=5, key=b"second"))
    await wait_until(lambda: len(room) == 1)
    assert room.away == 1
    later = await room.wait_turn(4.0, "checkout", hold_s=5, key=b"fourth")
    assert isinstance(later, Turn)
    assert later.place == 3  # behind the second (waiting) and the third (away)
    first.success()
    served = await again
    assert isinstance(served, Permit)
    served.success()
    assert room.away == 2  # the third and the fourth


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
        Settings(waiting_room_size=3500, max_connections=4096)
    assert Settings(waiting_room_size=3000, max_connections=4096).waiting_room_size == 3000
