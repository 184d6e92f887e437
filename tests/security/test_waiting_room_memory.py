"""Finding 3 of 2026-12-07: the waiting room kept every Idempotency-Key it was sent, raw, before
the 255-character check, for minutes (the server takes a header of ~500 KB): 1,500 refused
attempts with 400 KB keys took a worker from 118 MB to ~410 MB, never given back. A key is now
checked at the door by checkout's own rule (a 400 problem, nothing kept), and what the room keeps
is bounded in bytes (``waiting_room_max_bytes``): at the bound a newcomer gets the room's "full"
answer. Measured in the room's own accounting and with tracemalloc."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import random
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gourmet.app import asgi_stack, create_app
from gourmet.config import AdmissionSettings, DatabaseSettings, SecuritySettings, Settings
from gourmet.db.types import Conn
from gourmet.problems import Problem
from gourmet.resilience import waiting_room
from gourmet.resilience.admission import AdmissionMiddleware
from gourmet.resilience.idempotency_key import check_idempotency_key
from gourmet.resilience.limiter import Priority
from gourmet.resilience.waiting_room import Tickets, WaitingRoom
from gourmet.routes import ADMISSION_RULES
from gourmet.services import runtime_of
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_until
from tests.resilience.test_admission import BLOCK, GatedApp, call, fixed_limiter
from tests.serving import serve

pytestmark = pytest.mark.anyio

HUGE = 400_000  # bytes of each key, as in the probe
ATTEMPTS = 1_500
MiB = 1024 * 1024


def checkouts_answer(key: str) -> dict[str, object]:
    """What checkout itself answers for this key (its own check, as its handler runs it)."""
    with pytest.raises(Problem) as refused:
        check_idempotency_key(key)
    return refused.value.body("/api/orders")


@contextmanager
def traced() -> Iterator[Callable[[], int]]:
    """The bytes still allocated since the block began (tracemalloc), after a collection."""
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]

    def grown() -> int:
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - start

    try:
        yield grown
    finally:
        tracemalloc.stop()


def full_checkout(
    max_bytes: int | None = None, size: int = 10
) -> tuple[GatedApp, AdmissionMiddleware, WaitingRoom]:
    """The admission layer in front of an app, checkout's share of one place: the line is the
    only way in. (Its single place is taken by the caller.) The room's bound is the setting's
    default unless given."""
    limiter = fixed_limiter(1)
    if max_bytes is None:
        waiting = WaitingRoom(limiter, size=size)
    else:
        waiting = WaitingRoom(limiter, size=size, max_bytes=max_bytes)
    app = GatedApp()
    mw = AdmissionMiddleware(
        app,
        limiter,
        rules=ADMISSION_RULES,
        room=waiting,
        tickets=Tickets(b"secret"),
        hold_s=0.0,
        rng=random.Random(7),
    )
    return app, mw, waiting


async def test_refused_attempts_with_huge_keys_leave_the_room_nothing() -> None:
    app, mw, room = full_checkout()
    held = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)  # checkout is full: every attempt meets the room
    expected = checkouts_answer("k" * HUGE)
    with traced() as grown:
        for attempt in range(ATTEMPTS):
            key = f"{attempt:06d}".ljust(HUGE, "k")  # each a different customer's
            reply = await call(mw, "POST", "/api/orders", ("idempotency-key", key))
            assert reply.status == 400, reply.body[:200]
            assert reply.headers["content-type"] == "application/problem+json"
            assert reply.json() == expected
        kept = grown()
    assert (room.away, len(room), room.kept_bytes) == (0, 0, 0)
    assert app.entered == 1  # none went further either
    assert kept < MiB, f"{kept / MiB:.1f} MiB still held after {ATTEMPTS} attempts"
    app.gate.set()
    assert (await held).status == 200


async def test_what_the_room_keeps_stays_within_its_bound_and_then_it_answers_full() -> None:
    """Valid keys of the longest kind (255 characters), each sent back: the room counts them
    while they are away only up to its bound; past it a newcomer is not held even with time to
    wait, and hears the room's "full" answer (their place, a ticket); tracemalloc agrees with
    the room's count."""
    bound = 256 * 1024
    app, mw, room = full_checkout(max_bytes=bound, size=1_000)
    held = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)
    with traced() as grown:
        for attempt in range(ATTEMPTS):
            key = f"{attempt:06d}".ljust(255, "k")
            reply = await call(mw, "POST", "/api/orders", ("idempotency-key", key))
            assert reply.status == 503
            assert reply.json()["type"] == "/problems/waiting-room"
        kept = grown()
    per_customer = waiting_room.AWAY_BYTES + 255
    assert room.kept_bytes <= bound
    assert room.away == bound // per_customer  # as many as fit, then no more
    assert room.not_kept == ATTEMPTS - room.away
    # The room's count is what it holds (within a fifth, and the interpreter's own noise).
    assert kept <= room.kept_bytes * 1.2 + 64 * 1024, (kept, room.kept_bytes)
    assert kept >= room.kept_bytes * 0.5, (kept, room.kept_bytes)

    mw.line = dataclasses.replace(mw.line, hold_s=5.0)  # time to wait, but no memory left
    turned_away = room.turned_away
    reply = await call(mw, "POST", "/api/orders", ("idempotency-key", "newcomer"))
    assert reply.status == 503
    problem = reply.json()
    assert problem["type"] == "/problems/waiting-room"
    assert problem["place_in_line"] == room.away + 1
    assert problem["ticket"] == reply.headers["gourmet-ticket"]
    assert room.turned_away == turned_away + 1
    assert (len(room), room.kept_bytes <= bound) == (0, True)
    app.gate.set()
    assert (await held).status == 200


async def test_a_room_with_memory_left_still_holds_a_customer() -> None:
    """The bound counts a held customer too: with room for one, one waits and is served."""
    held_bytes = waiting_room.HELD_BYTES
    app, mw, room = full_checkout(max_bytes=held_bytes)
    mw.line = dataclasses.replace(mw.line, hold_s=5.0)
    held = asyncio.create_task(call(mw, "POST", "/api/orders", BLOCK))
    await wait_until(lambda: app.entered == 1)
    waiting = asyncio.create_task(call(mw, "POST", "/api/orders", ("idempotency-key", "a")))
    await wait_until(lambda: len(room) == 1)
    assert room.kept_bytes == held_bytes
    app.gate.set()
    assert [(await held).status, (await waiting).status] == [200, 200]
    assert room.kept_bytes == 0


def one_place(database_url: str, tmp_path: Path) -> Settings:
    """Checkout's share of the limit is one place, and a short hold."""
    return Settings(
        data_dir=tmp_path,
        database=DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=2),
        security=SecuritySettings(staff_token=STAFF_TOKEN, checkouts_per_client=0),
        admission=AdmissionSettings(
            limiter_initial=1, limiter_min=1, limiter_max=1, waiting_room_hold_s=0.2
        ),
    )


async def test_at_the_real_door_a_bad_key_is_refused_at_once_and_a_good_one_orders(
    database_url: str, tmp_path: Path, menu: FixtureMenu, conn: Conn
) -> None:
    """The whole stack on PostgreSQL, checkout full: a key of 256 or 400,000 characters gets
    checkout's own 400 without waiting in line and is not kept; a key of 255 waits, is sent
    back with a ticket and counted in line, then orders once its place comes."""
    app = create_app(one_place(database_url, tmp_path))
    stack = asgi_stack(app)
    room = runtime_of(app).admission.room  # type: ignore[union-attr]
    assert room is not None
    body = checkout_body([{"item_id": menu.cake}])
    async with serve(stack) as client:
        slot = runtime_of(app).limiter.admit(Priority.CHECKOUT)  # checkout is full
        for length in (256, HUGE):
            bad = await client.post(
                "/api/orders", json=body, headers={"Idempotency-Key": "b" * length}
            )
            assert bad.status_code == 400, bad.text
            assert bad.json() == checkouts_answer("b" * length)
        assert (room.away, room.kept_bytes, room.served + room.turned_away) == (0, 0, 0)

        good = {"Idempotency-Key": "g" * 255}
        sent_back = await client.post("/api/orders", json=body, headers=good)
        assert sent_back.status_code == 503, sent_back.text
        assert sent_back.json()["type"] == "/problems/waiting-room"
        assert room.away == 1
        slot.success()
        ticket = {"Gourmet-Ticket": sent_back.headers["gourmet-ticket"]}
        placed = await client.post("/api/orders", json=body, headers={**good, **ticket})
        assert placed.status_code == 201, placed.text
        again = await client.post("/api/orders", json=body, headers=good)
        assert again.status_code == 200, again.text
        assert again.json()["token"] == placed.json()["token"]
        assert room.away == 0
    row = await (await conn.execute("SELECT count(*) AS n FROM orders")).fetchone()
    assert row == {"n": 1}
