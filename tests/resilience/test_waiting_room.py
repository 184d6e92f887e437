"""The waiting room: its order, its bounds, its tickets, and the admission middleware around it
(a client that leaves the line starts nothing; the body waits with it)."""

from __future__ import annotations

import asyncio

import pytest

from gourmet.resilience.limiter import AdaptiveLimiter, Permit, Priority
from gourmet.resilience.line_policy import LinePolicy
from gourmet.resilience.waiting_room import Tickets, Turn, WaitingRoom
from tests.polling import wait_until
from tests.resilience.test_admission import fixed_limiter

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
    assert LinePolicy(budget_s=20, serve_s=3, hold_s=10).back_in(turn) == 3.0
    # A short hold bounds the reach, and then no later than four fifths of the estimate.
    assert LinePolicy(budget_s=20, serve_s=3, hold_s=1).back_in(turn) == 4.0
    long_wait = Turn(place=1000, wait_s=100.0, reach_s=4.0)
    assert LinePolicy(budget_s=20, serve_s=3, hold_s=10).back_in(long_wait) == 80.0
    assert LinePolicy().back_in(Turn(place=3, wait_s=None)) is None
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
