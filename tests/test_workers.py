"""``gourmet serve`` with several workers: one set of metrics, a killed worker replaced, reloads
and stops that lose no request."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from gourmet.db.types import Conn
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for, wait_until
from tests.test_serve import gourmet_serve

pytestmark = pytest.mark.anyio

WORKERS = 2
DRAINING_STREAK = 10


def workers_of(server_pid: int) -> set[int]:
    """The granian workers of a server: its spawned children (not multiprocessing's tracker).
    A child that ends while it is looked at is not one of them."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return {int(pid) for pid in children if b"spawn_main" in _cmdline(int(pid))}


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):  # it ended meanwhile
        return b""


def gauge(page: str, name: str) -> float:
    match = re.search(rf"^{name} (\S+)$", page, re.MULTILINE)
    assert match, f"{name} not on /metrics"
    return float(match.group(1))


async def test_workers_share_one_metrics_page_and_a_killed_worker_is_replaced(
    database_url: str, tmp_path: Path, menu: FixtureMenu
) -> None:
    """Each worker sizes its own pool; /metrics adds the live ones. A worker killed outright is
    replaced (granian would otherwise stop every worker with it), and its gauges leave the
    page: only its counters, which happened, still count."""
    port, process = gourmet_serve(
        database_url,
        tmp_path,
        GOURMET_SERVER__WORKERS=str(WORKERS),
        GOURMET_DATABASE__POOL_MAX_SIZE="5",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as client:
            await wait_for(  # both workers up and sampled
                lambda: client.get("/metrics"),
                lambda page: gauge(page.text, "gourmet_db_pool_max") == WORKERS * 5,
                timeout_s=20,
            )
            victim = min(workers_of(process.pid))
            os.kill(victim, signal.SIGKILL)
            await wait_until(
                lambda: (
                    len(workers_of(process.pid)) == WORKERS
                    and victim not in workers_of(process.pid)
                ),
                timeout_s=20,
            )
            menus = [(await client.get("/api/menu")).status_code for _ in range(20)]
            # The replacement sampled, the dead worker's gauges gone: two workers' worth again.
            page = (
                await wait_for(
                    lambda: client.get("/metrics"),
                    lambda page: gauge(page.text, "gourmet_db_pool_max") == WORKERS * 5,
                    timeout_s=20,
                )
            ).text
    finally:
        stop_quickly(process)
    assert menus == [200] * 20
    assert gauge(page, "gourmet_db_pool_max") == WORKERS * 5  # not 3 workers' worth
    assert gauge(page, "gourmet_db_up") == 1
    assert not list((tmp_path / "prometheus").glob(f"gauge_live*_{victim}.db"))


async def test_a_reload_under_load_fails_no_request_and_loses_no_order(
    database_url: str, tmp_path: Path, menu: FixtureMenu, conn: Conn
) -> None:
    """SIGHUP replaces every worker while customers browse and order over keep-alive
    connections. Each request is checked: every one answered, every order acknowledged is in
    the database once."""
    await conn.execute("UPDATE slot_capacity SET max_orders = 100000")
    port, process = gourmet_serve(
        database_url, tmp_path, GOURMET_SERVER__WORKERS=str(WORKERS), GOURMET_SERVER__DRAIN_S="1"
    )
    before = workers_of(process.pid)
    outcomes: Counter[str] = Counter()
    acknowledged: dict[str, str] = {}
    line = {"item_id": menu.cake, "quantity": 1, "option_ids": []}

    async def customer(client: httpx.AsyncClient, done: asyncio.Event) -> None:
        while not done.is_set():
            key = uuid.uuid4().hex
            for request in (
                client.build_request("GET", "/api/slots", params={"fulfilment": "pickup"}),
                client.build_request(
                    "POST",
                    "/api/orders",
                    json=checkout_body([line]),
                    headers={"Idempotency-Key": key},
                ),
            ):
                try:
                    response = await client.send(request)
                except httpx.TransportError as exc:
                    outcomes[type(exc).__name__] += 1
                    continue
                outcomes[f"{request.method} {response.status_code}"] += 1
                if request.method == "POST" and response.status_code == 201:
                    acknowledged[key] = response.json()["token"]

    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            done = asyncio.Event()
            load = [asyncio.create_task(customer(client, done)) for _ in range(8)]
            await wait_until(lambda: len(acknowledged) >= 10, timeout_s=30)  # traffic flows
            process.send_signal(signal.SIGHUP)
            await wait_until(lambda: not workers_of(process.pid) & before, timeout_s=30)
            ordered = len(acknowledged)  # and on with the new workers
            await wait_until(lambda: len(acknowledged) >= ordered + 10, timeout_s=30)
            done.set()
            await asyncio.gather(*load)
    finally:
        stop_quickly(process)
    failed = {outcome: n for outcome, n in outcomes.items() if not outcome.endswith(("200", "201"))}
    assert failed == {}, f"{failed} of {sum(outcomes.values())} requests"
    assert len(acknowledged) > 50
    # Every order in the database was acknowledged (none placed unanswered), and each once.
    rows = await (
        await conn.execute(
            "SELECT r.idempotency_key AS key, o.token FROM orders o"
            " LEFT JOIN checkout_request r ON r.order_id = o.id"
        )
    ).fetchall()
    assert {row["key"]: row["token"] for row in rows} == acknowledged
    assert len(rows) == len(acknowledged)


async def test_sigterm_drains_before_the_listener_closes(
    database_url: str, tmp_path: Path, menu: FixtureMenu
) -> None:
    """A stopping server first says it is not ready, while it still serves, and closes each
    keep-alive connection after its response; only after GOURMET_SERVER__DRAIN_S does it stop."""
    drain_s = 2.0
    port, process = gourmet_serve(
        database_url,
        tmp_path,
        GOURMET_SERVER__WORKERS=str(WORKERS),
        GOURMET_SERVER__DRAIN_S=str(drain_s),
    )
    base = f"http://127.0.0.1:{port}"
    seen: list[tuple[int, int, str]] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            await wait_for(  # every worker up, to hear the drain
                lambda: client.get("/metrics"),
                lambda page: (
                    gauge(page.text, "gourmet_db_up") == 1
                    and len(workers_of(process.pid)) == WORKERS
                ),
                timeout_s=20,
            )
            process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            # Each worker hears the signal on its own: one may answer "not ready" (and close
            # the connection) while the other has not begun draining yet. Ten refusals in a
            # row, each on a new connection given to either worker, say both are draining.
            streak = 0
            while streak < DRAINING_STREAK:
                assert time.monotonic() - sent < drain_s - 0.5, "the workers did not drain"
                draining = (await client.get("/readyz")).status_code == 503
                streak = streak + 1 if draining else 0
            while time.monotonic() - sent < drain_s - 0.5:
                ready = await client.get("/readyz")
                menu_page = await client.get("/api/menu")
                seen.append(
                    (ready.status_code, menu_page.status_code, menu_page.headers["connection"])
                )
        process.wait(timeout=drain_s + 15)
        stopped_after = time.monotonic() - sent
    finally:
        stop_quickly(process)
    assert seen, "nothing was asked during the drain"
    assert set(seen) == {(503, 200, "close")}
    assert process.returncode == 0
    assert stopped_after >= drain_s


def stop_quickly(process: Any) -> None:
    """SIGINT stops at once (SIGTERM would drain first)."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)


async def test_workers_of_a_killed_server_stop_too(
    database_url: str, tmp_path: Path, menu: FixtureMenu
) -> None:
    """The server process killed outright (SIGKILL: no chance to stop its workers): the workers
    notice their parent is gone and stop, instead of serving on as orphans nobody manages."""
    port, process = gourmet_serve(database_url, tmp_path, GOURMET_SERVER__WORKERS=str(WORKERS))
    await wait_until(lambda: len(workers_of(process.pid)) == WORKERS, timeout_s=20)
    workers = workers_of(process.pid)
    process.kill()
    process.wait(timeout=5)
    await wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), 15)
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.TransportError):
            await client.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
