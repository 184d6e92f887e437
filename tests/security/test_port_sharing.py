"""A second server on a port already served (hostile probe, finding 7).

granian bound each worker's socket with SO_REUSEPORT, so a second ``gourmet run`` or a second
sandbox provider on the same port started without a word, and the kernel split new connections
between the two (orders to one database, charges to one ledger or the other). A port already
served now refuses the second server, unless both ask to share it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.processes import ROOT, STARTUP_DEADLINE_S, free_port, start, stop
from tests.test_serve import gourmet_serve

REFUSAL_WITHIN_S = 60.0
TCP_LISTEN = "0A"  # the state column of /proc/net/tcp
POLL_S = 0.05
GOURMET = str(Path(sys.executable).with_name("gourmet"))
SANDBOX = [sys.executable, "-m", "gourmet.payments.sandbox"]


def run_to_exit(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` (GOURMET_* settings in ``env``); it must exit by itself."""
    return subprocess.run(
        command,
        env={**os.environ, "COLUMNS": "200", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=REFUSAL_WITHIN_S,
        check=False,
    )


def start_sandbox(port: int, log: Path, *options: str) -> subprocess.Popen[bytes]:
    command = [*SANDBOX, "--port", str(port), *options]
    return start(command, dict(os.environ), log, f"http://127.0.0.1:{port}/health")


def listening_sockets(port: int) -> int:
    """Sockets listening on ``port`` (IPv4, any process), from the kernel's table."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    fields = [row.split() for row in rows]
    return sum(1 for f in fields if f[1].endswith(f":{port:04X}") and f[3] == TCP_LISTEN)


def wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(POLL_S)  # polling interval; the deadline bounds the wait


def test_a_second_gourmet_server_refuses_a_port_already_served(
    database_url: str, tmp_path: Path
) -> None:
    """``gourmet serve`` and ``gourmet run`` on the port of a running server exit non-zero with
    a message (``run`` before it starts a database or a sandbox), and the first keeps every
    connection."""
    port, first = gourmet_serve(database_url, tmp_path)
    second_dir = tmp_path / "second"
    settings = {
        "GOURMET_SERVER__PORT": str(port),
        "GOURMET_DATA_DIR": str(second_dir),
        "GOURMET_DATABASE__URL": database_url,
        "GOURMET_PAYMENTS__URL": "",
    }
    try:
        serve = run_to_exit([GOURMET, "serve"], **settings)
        run = run_to_exit([GOURMET, "run"], **settings)
        answers = [httpx.get(f"http://127.0.0.1:{port}/healthz").status_code for _ in range(20)]
    finally:
        stop(first)
    for refused in (serve, run):
        said = refused.stdout + refused.stderr
        assert refused.returncode != 0, said
        assert f"127.0.0.1:{port} is already served by another process" in said
        assert "GOURMET_SERVER__SHARE_PORT" in said
    assert "migrations" not in run.stdout  # refused before the database was touched
    assert answers == [200] * 20


def test_a_second_sandbox_provider_refuses_a_port_already_served(tmp_path: Path) -> None:
    port = free_port()
    first = start_sandbox(port, tmp_path / "first.log")
    try:
        second = run_to_exit([*SANDBOX, "--port", str(port)])
        still_first = httpx.get(f"http://127.0.0.1:{port}/health").status_code
    finally:
        stop(first)
    assert second.returncode != 0
    assert f"127.0.0.1:{port} is already served by another process" in second.stderr
    assert "--share-port" in second.stderr
    assert still_first == 200


def test_two_providers_share_a_port_when_both_ask(tmp_path: Path) -> None:
    """Joining stays possible, made explicit: with --share-port on both, the second starts and
    serves the port once the first has stopped."""
    port = free_port()
    first = start_sandbox(port, tmp_path / "first.log", "--share-port")
    second: subprocess.Popen[bytes] | None = None
    try:
        second = start_sandbox(port, tmp_path / "second.log", "--share-port")
        wait_until(lambda: listening_sockets(port) == 2)  # the first answered its health check
        stop(first)
        alone = httpx.get(f"http://127.0.0.1:{port}/health").status_code
    finally:
        stop(first)
        if second is not None:
            stop(second)
    assert alone == 200
