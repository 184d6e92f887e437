"""A Gourmet of our own to load: the embedded PostgreSQL, a fresh database with the demo menu
open all night, and ``gourmet serve`` in a process of its own."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from psycopg.rows import dict_row

from gourmet.db import migrate
from gourmet.db.embedded import drop_database, ensure_database
from gourmet.demo import load_demo

START_DEADLINE_S = 60.0
# The staff token of the servers started here (their alerts are read with it): new each run.
STAFF_TOKEN = secrets.token_urlsafe(24)


def fresh_database(admin_url: str, url: str, name: str) -> None:
    """``name`` dropped and made again: migrated, the demo menu, open around the clock, slots
    that never fill (the kitchen's limits are not what a load test measures)."""
    drop_database(admin_url, name)
    ensure_database(admin_url, name)
    migrate.upgrade(url)
    asyncio.run(_demo(url))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM opening_hours")
        conn.execute("INSERT INTO opening_hours SELECT d, 0, 1440 FROM generate_series(0, 6) AS d")
        conn.execute("UPDATE slot_capacity SET max_orders = 100000000")
        conn.execute("UPDATE restaurant SET lead_minutes = 0")


async def _demo(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(
        url, autocommit=True, row_factory=dict_row
    ) as conn:
        await load_demo(conn, only_if_empty=False)


@contextmanager
def local_server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """``gourmet serve`` with ``env`` on ``port``: its base URL once it is ready."""
    command = [str(Path(sys.executable).with_name("gourmet")), "serve"]
    settings = {
        **os.environ,
        "GOURMET_SERVER__PORT": str(port),
        "GOURMET_SECURITY__STAFF_TOKEN": STAFF_TOKEN,
        "GOURMET_PAYMENTS__URL": "",
        # A load generator is one client: a per-client limit would measure only itself.
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        "GOURMET_SERVER__CONNECTIONS_PER_ADDRESS": str(2**31),
        "GOURMET_LOGS__LEVEL": "WARNING",
        **env,
    }
    settings.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, env=settings, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # at once, no drain
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    while True:
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gourmet serve did not become ready:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)  # polling while it starts
