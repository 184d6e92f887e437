"""Gourmet through PgBouncer in transaction mode (Debian's pgbouncer, started here): orders,
live tracking (LISTEN straight to PostgreSQL), and a PgBouncer restart in the middle of
checkouts that loses and duplicates no order."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from psycopg.conninfo import conninfo_to_dict

from gourmet.config import Settings
from gourmet.db.pgbouncer import BouncerConfig, LocalBouncer
from gourmet.db.types import Conn
from tests.conftest import STAFF_TOKEN, FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_until
from tests.processes import free_port, stop
from tests.test_serve import gourmet_serve
from tests.tools import require_tool

pytestmark = pytest.mark.anyio

STAFF = {"Authorization": f"Bearer {STAFF_TOKEN}"}
ORDER_PATIENCE_S = 30.0  # a customer retrying (same key) while PgBouncer is away


@pytest.fixture
def bouncer(database_url: str) -> Iterator[LocalBouncer]:
    require_tool("pgbouncer", "pgbouncer")
    config = BouncerConfig(database_url, port=free_port(), pool_size=4)
    local = LocalBouncer(config).start(Settings())
    yield local
    local.stop()


def through(bouncer: LocalBouncer, database_url: str) -> tuple[str, dict[str, str]]:
    """The pools' URL (PgBouncer) and the settings that go with it."""
    database = str(conninfo_to_dict(database_url)["dbname"])
    return bouncer.url(database), {
        "GOURMET_DATABASE__POOLER": "pgbouncer",
        "GOURMET_DATABASE__LISTEN_URL": database_url,
        "GOURMET_SERVER__WORKERS": "1",
    }


async def test_orders_and_live_tracking_through_pgbouncer(
    database_url: str, tmp_path: Path, menu: FixtureMenu, bouncer: LocalBouncer
) -> None:
    """Many checkouts on few server connections (psycopg would prepare the repeated statements
    after five uses and fail on the next server connection, were it allowed), and a status
    change reaches the tracking view through the direct LISTEN connection."""
    url, settings = through(bouncer, database_url)
    port, process = gourmet_serve(url, tmp_path, **settings)
    line = {"item_id": menu.cake, "quantity": 1, "option_ids": []}
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def order(n: int) -> httpx.Response:
                return await client.post(
                    "/api/orders",
                    json=checkout_body([line], name=f"Guest {n}"),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )

            placed = await asyncio.gather(*(order(n) for n in range(30)))
            statuses = Counter(response.status_code for response in placed)
            ours = next(r.json() for r in placed if r.status_code == 201)
            tracked = (await client.get(f"/api/orders/{ours['token']}")).json()
            moved = await client.post(
                f"/api/staff/orders/{ours['number']}/status",
                json={"status": "accepted"},
                headers=STAFF,
            )
            seen = await wait_for_status(client, ours["token"], "accepted")
    finally:
        stop(process)
    assert statuses[201] >= 20, statuses  # the rest: slot full (capacity 10 a slot)
    assert set(statuses) <= {201, 409}, statuses
    assert tracked["status"] == "received"
    assert moved.status_code == 200
    assert seen == "accepted"


async def wait_for_status(client: httpx.AsyncClient, token: str, status: str) -> str:
    deadline = time.monotonic() + 5
    while True:
        seen = (await client.get(f"/api/orders/{token}")).json()["status"]
        if seen == status or time.monotonic() > deadline:
            return str(seen)
        await asyncio.sleep(0.05)  # polling the customer's view


async def test_a_pgbouncer_restart_mid_traffic_loses_and_duplicates_no_order(
    database_url: str, tmp_path: Path, menu: FixtureMenu, bouncer: LocalBouncer, conn: Conn
) -> None:
    """PgBouncer is stopped (immediate shutdown: every connection dropped) while customers
    check out, and started again a second later; customers keep ordering until a second after
    it is back, so the restart always falls in the middle of the traffic. Customers retry with
    their Idempotency-Key until acknowledged (a try whose commit went through but whose answer
    was lost is answered on the retry, 200 with the same order): each gets one order, and the
    database holds exactly the orders acknowledged."""
    await conn.execute("UPDATE slot_capacity SET max_orders = 100000")
    url, settings = through(bouncer, database_url)
    port, process = gourmet_serve(url, tmp_path, **settings)
    line = {"item_id": menu.cake, "quantity": 1, "option_ids": []}
    answers: Counter[int | str] = Counter()
    acknowledged: dict[str, str] = {}
    unacknowledged: list[str] = []
    during_restart: set[str] = set()  # keys tried while PgBouncer was away
    restarting = asyncio.Event()
    traffic_over = asyncio.Event()

    async def customer(client: httpx.AsyncClient) -> None:
        while not traffic_over.is_set():
            key = uuid.uuid4().hex
            give_up = time.monotonic() + ORDER_PATIENCE_S
            while time.monotonic() < give_up:
                if restarting.is_set():
                    during_restart.add(key)
                try:
                    response = await client.post(
                        "/api/orders",
                        json=checkout_body([line]),
                        headers={"Idempotency-Key": key},
                    )
                except httpx.TransportError as exc:
                    answers[type(exc).__name__] += 1
                    continue
                answers[response.status_code] += 1
                # 201: placed now; 200: placed by an earlier try whose answer was lost.
                if response.status_code in (200, 201):
                    acknowledged[key] = response.json()["token"]
                    break
                await asyncio.sleep(0.1)  # a client's pause before trying again
            else:
                unacknowledged.append(key)

    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            load = asyncio.gather(*(customer(client) for _ in range(6)))
            await wait_until(lambda: len(acknowledged) >= 5, timeout_s=30)  # traffic flows
            restarting.set()
            bouncer.stop()
            # Every customer has tried while PgBouncer was away.
            await wait_until(lambda: len(during_restart) >= 6, timeout_s=30)
            bouncer.start(Settings())
            restarting.clear()
            ordered = len(acknowledged)
            await wait_until(lambda: len(acknowledged) >= ordered + 5, timeout_s=30)  # and again
            traffic_over.set()
            await load
    finally:
        stop(process)
    assert unacknowledged == [], answers
    assert during_restart, "no customer ordered while PgBouncer was away"
    assert during_restart <= set(acknowledged)
    assert answers[200] + answers[201] == len(acknowledged)
    assert len(answers) > 1, f"PgBouncer's restart went unnoticed: {answers}"
    rows = await (
        await conn.execute(
            "SELECT r.idempotency_key AS key, o.token FROM orders o"
            " LEFT JOIN checkout_request r ON r.order_id = o.id"
        )
    ).fetchall()
    assert {row["key"]: row["token"] for row in rows} == acknowledged
    assert len(rows) == len(acknowledged)
