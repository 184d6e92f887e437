"""No order is placed for a client that has gone (issue 21), against the real app and PostgreSQL.

Two kinds of departure: a client that stops waiting without a word (an API client's or a
browser's timeout of ten seconds, sending no deadline header), and one that closes its
connection. Checkout's budget is counted from the attempt's arrival, its wait in line taken from
it; a statement still running at the end of the budget, or when the client goes, is cancelled,
never committed late."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from gourmet.config import Settings
from gourmet.db.types import Conn
from tests.conftest import FixtureMenu
from tests.ordering.line import (
    cake,
    keys_claimed,
    one_at_a_time,
    order_count,
    orders_locked,
    post_and_leave,
    running,
)
from tests.polling import wait_for, wait_until

pytestmark = pytest.mark.anyio

BUDGET_S = 1.5  # the checkout budget in these tests
PATIENCE_S = 2.0  # how long the silent client waits: longer than the budget, as 10 s is than 8
LOCKED_S = 3.0  # the orders table is held until after the client has given up


def patient_database(database_url: str, tmp_path: Path) -> Settings:
    """One place at checkout, a short budget, and database bounds far longer than it: only the
    budget can stop a checkout that waits on a lock."""
    return one_at_a_time(database_url, tmp_path).changed(
        admission={"checkout_budget_s": BUDGET_S},
        database={"lock_timeout_ms": 20_000, "statement_timeout_ms": 20_000},
    )


async def blocked_insert(conn: Conn) -> bool:
    """Whether a checkout's transaction is waiting on the lock another session holds (its first
    insert, the key's claim, already does)."""
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO%%'"
        )
    ).fetchone()
    assert row is not None
    return int(row["n"]) > 0


async def transactions_in_flight(conn: Conn) -> int:
    """Other sessions of this database inside a statement or a transaction: once none is, an
    insert that survived its client has either committed or gone for good."""
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle'"
        )
    ).fetchone()
    assert row is not None
    return int(row["n"])


async def test_a_client_that_gives_up_silently_gets_no_order_placed_after_it_left(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    settings = patient_database(database_url, tmp_path)
    async with running(settings) as (client, _, _):
        async with orders_locked(database_url):
            started = time.monotonic()
            attempt = asyncio.create_task(
                client.post(
                    "/api/orders", json=cake(menu, "Silent"), headers={"Idempotency-Key": "s"}
                )
            )
            # The client's patience runs out with the lock still held; it hears nothing more.
            done, _ = await asyncio.wait({attempt}, timeout=PATIENCE_S)
            answered_in = time.monotonic() - started
            assert done, f"no answer within the client's {PATIENCE_S} s"
            await asyncio.sleep(LOCKED_S - PATIENCE_S)  # the lock outlives the client
        answer = attempt.result()
        assert answer.status_code == 503, answer.text
        assert answered_in <= BUDGET_S + 0.3
        # The lock is gone: an insert still waiting would commit now, and then be counted.
        await wait_for(lambda: transactions_in_flight(conn), lambda n: n == 0)
    assert await order_count(conn) == 0, "an order was placed for a client that had gone"
    assert await keys_claimed(conn, "s") == 0


async def test_a_client_that_closes_its_connection_while_checkout_waits_gets_no_order(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    settings = one_at_a_time(database_url, tmp_path).changed(
        database={"lock_timeout_ms": 20_000, "statement_timeout_ms": 20_000}
    )
    async with running(settings) as (_, stack, admission):
        leave = asyncio.Event()
        async with orders_locked(database_url):
            leaving = asyncio.create_task(post_and_leave(stack, cake(menu, "Gone"), "g", leave))
            await wait_until(lambda: admission.limiter.in_flight == 1)
            await wait_for(lambda: blocked_insert(conn), bool)
            leave.set()  # the customer closes the tab while the insert waits on the lock
            await wait_for(lambda: blocked_insert(conn), lambda waiting: not waiting)
        await leaving
        await wait_for(lambda: transactions_in_flight(conn), lambda n: n == 0)
    assert await order_count(conn) == 0, "an order was placed for a client that had gone"
    assert await keys_claimed(conn, "g") == 0


async def test_an_attempt_held_in_line_is_answered_within_its_budget(
    menu: FixtureMenu, database_url: str, tmp_path: Path, conn: Conn
) -> None:
    """Checkout's only place is taken for longer than the budget: the customer behind hears
    their place in line before their client gives up, and no order is placed for them."""
    settings = patient_database(database_url, tmp_path)
    async with running(settings) as (client, _, admission):
        async with orders_locked(database_url):
            first = asyncio.create_task(
                client.post(
                    "/api/orders", json=cake(menu, "First"), headers={"Idempotency-Key": "f"}
                )
            )
            await wait_until(lambda: admission.limiter.in_flight == 1)
            started = time.monotonic()
            behind = await client.post(
                "/api/orders", json=cake(menu, "Behind"), headers={"Idempotency-Key": "b"}
            )
            waited = time.monotonic() - started
            await asyncio.sleep(LOCKED_S - waited)
        assert behind.status_code == 503, behind.text
        assert behind.json()["type"] == "/problems/waiting-room"
        assert behind.json()["ticket"]
        assert waited <= BUDGET_S  # held for the budget less half a deadline, not 10 s more
        assert (await first).status_code == 503  # the first one's budget ran out at the lock
        await wait_for(lambda: transactions_in_flight(conn), lambda n: n == 0)
    assert await order_count(conn) == 0
