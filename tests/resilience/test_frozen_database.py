"""A hung database is not a slow one: a real PostgreSQL frozen with SIGSTOP (the postmaster and
every backend: connections hang, nothing fails) and thawed with SIGCONT.

Readiness answers within its second, the freeze is noticed within two, database-bound requests
are then refused at once while held orders are still tracked, and everything heals by itself
within five seconds of the thaw."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar

from gourmet.db.embedded import EmbeddedPostgres
from gourmet.services import runtime_of
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio

READINESS_BOUND_S = 1.5  # its 1 s, and room for the event loop to get to the answer
DETECTION_BOUND_S = 2.0


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it, from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                for line in (entry / "status").read_text().splitlines():
                    if line.startswith("PPid:"):
                        parents[int(entry.name)] = int(line.split()[1])
    tree, frontier = [root], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


@contextlib.contextmanager
def frozen(server: EmbeddedPostgres) -> Iterator[None]:
    """The database frozen for the block: every process stopped, sockets left open."""
    postmaster = server.postmaster_pid
    assert postmaster is not None
    stopped = process_tree(postmaster)
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in reversed(stopped):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


async def timed_get(client: Client, path: str) -> tuple[int, float]:
    started = time.monotonic()
    response = await client.get(path)
    return response.status_code, time.monotonic() - started


async def test_a_frozen_database_is_found_out_refused_fast_and_healed(
    client: Client, app: Litestar, menu: FixtureMenu, embedded_server: EmbeddedPostgres | None
) -> None:
    if embedded_server is None:
        pytest.skip("freezing the database needs the embedded server (GOURMET_DATABASE__URL set)")
    health = runtime_of(app).services.pool.health
    placed = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    token = placed.json()["token"]
    assert (await client.get("/readyz")).status_code == 200

    with frozen(embedded_server):
        frozen_at = time.monotonic()
        status, took = await timed_get(client, "/readyz")
        assert status == 503
        assert took < READINESS_BOUND_S, f"readiness took {took:.2f} s against a frozen database"
        await wait_for(lambda: _noop(), lambda _: not health.up, timeout_s=DETECTION_BOUND_S)
        detected_after = time.monotonic() - frozen_at
        assert detected_after < DETECTION_BOUND_S + READINESS_BOUND_S

        started = time.monotonic()
        refused = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
        assert refused.status_code == 503
        assert refused.json()["type"] == "/problems/database-unavailable"
        assert time.monotonic() - started < 0.1  # refused at once, no wait on the database
        assert "retry-after" in refused.headers
        status, took = await timed_get(client, "/readyz")
        assert (status, took < 0.1) == (503, True)
        tracked = await client.get(f"/api/orders/{token}")  # held: still tracked
        assert tracked.status_code == 200
        assert tracked.json()["status"] == "received"
        assert (await client.get("/api/menu")).status_code == 200
        thawed_at = time.monotonic()

    await wait_for(lambda: client.get("/readyz"), lambda r: r.status_code == 200, timeout_s=5.0)
    assert time.monotonic() - thawed_at < 5.0
    again = await client.post("/api/orders", json=checkout_body([{"item_id": menu.cake}]))
    assert again.status_code == 201


async def _noop() -> None:
    return None
