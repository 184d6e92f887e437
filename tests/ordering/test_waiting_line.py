"""The waiting room in front of checkout, against the real app and PostgreSQL: an order attempt
that finds checkout full waits its turn and is placed once; one whose client goes away while it
waits is never started; one whose client goes away after it was admitted is placed once, and the
customer's retry with the same Idempotency-Key gets that order, not a second one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gourmet.db.types import Conn
from tests.conftest import FixtureMenu
from tests.ordering.line import (
    behind_a_blocked_checkout,
    cake,
    keys_claimed,
    one_at_a_time,
    order_count,
    orders_locked,
    running,
)
from tests.polling import wait_for, wait_until

pytestmark = pytest.mark.anyio


async def test_an_attempt_that_finds_checkout_full_waits_and_is_placed_once(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    async with running(one_at_a_time(database_url, tmp_path)) as (client, _, admission):
        assert admission.room is not None
        async with orders_locked(database_url):
            first = asyncio.create_task(
                client.post(
                    "/api/orders", json=cake(menu, "First"), headers={"Idempotency-Key": "a"}
                )
            )
            await wait_until(lambda: admission.limiter.in_flight == 1)
            second = asyncio.create_task(
                client.post(
                    "/api/orders", json=cake(menu, "Second"), headers={"Idempotency-Key": "b"}
                )
            )
            await wait_until(lambda: len(admission.room or ()) == 1)
        # The lock is gone: the first is placed, then the second gets the place it waited for.
        assert (await first).status_code == 201
        answer = await second
        assert answer.status_code == 201, answer.text
        assert admission.room.waited == 1
        again = await client.post(
            "/api/orders", json=cake(menu, "Second"), headers={"Idempotency-Key": "b"}
        )
        assert again.status_code == 200
        assert again.json()["token"] == answer.json()["token"]
    assert await order_count(conn) == 2


async def test_a_customer_who_leaves_the_line_has_nothing_started_and_can_come_back(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    async with running(one_at_a_time(database_url, tmp_path)) as (client, stack, admission):
        assert admission.room is not None
        leave = asyncio.Event()
        async with orders_locked(database_url):
            first, leaving = await behind_a_blocked_checkout(
                client, stack, admission, cake(menu, "Gone"), "c", leave
            )
            leave.set()
            assert await leaving == []  # nothing to answer: the client is gone
            assert admission.room.left == 1
        assert (await first).status_code == 201
        assert await order_count(conn) == 1
        assert await keys_claimed(conn, "c") == 0, "the attempt never reached checkout"
        # The customer comes back with the same key: one order, and the retry of it is the same.
        back = await client.post(
            "/api/orders", json=cake(menu, "Gone"), headers={"Idempotency-Key": "c"}
        )
        assert back.status_code == 201
        replay = await client.post(
            "/api/orders", json=cake(menu, "Gone"), headers={"Idempotency-Key": "c"}
        )
        assert (replay.status_code, replay.json()["token"]) == (200, back.json()["token"])
    assert await order_count(conn) == 2


async def test_a_customer_who_leaves_after_being_admitted_gets_that_order_on_retry(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    async with running(one_at_a_time(database_url, tmp_path)) as (client, stack, admission):
        assert admission.room is not None
        leave = asyncio.Event()
        async with orders_locked(database_url):
            first, leaving = await behind_a_blocked_checkout(
                client, stack, admission, cake(menu, "Late"), "d", leave
            )
        assert (await first).status_code == 201
        # Admitted, and committed by the database: the client goes now, and the order stays
        # (one still running when its client goes is cancelled: test_departed_clients.py).
        await wait_for(lambda: order_count(conn), lambda n: n == 2)
        leave.set()
        await leaving
        assert await order_count(conn) == 2  # placed, once
        retry = await client.post(
            "/api/orders", json=cake(menu, "Late"), headers={"Idempotency-Key": "d"}
        )
        assert retry.status_code == 200, "the same order, not a second one"
        tracked = await client.get(f"/api/orders/{retry.json()['token']}")
        assert tracked.json()["customer_name"] == "Late"
    assert await order_count(conn) == 2
