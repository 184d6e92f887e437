"""``gourmet serve``: the production server process, with the settings it passes to granian."""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from gourmet.cli.serve import OPEN_FILES_BESIDE_CONNECTIONS
from tests.conftest import STAFF_TOKEN
from tests.processes import free_port, start, stop

pytestmark = pytest.mark.anyio

BACKLOG = 128  # granian's smallest accept queue


def gourmet_serve(
    database_url: str, tmp_path: Path, **settings: str
) -> tuple[int, subprocess.Popen[bytes]]:
    """``gourmet serve`` on a free port with these GOURMET_ settings; its port and process."""
    port = free_port()
    env = {
        **os.environ,
        "GOURMET_DATABASE__URL": database_url,
        "GOURMET_DATA_DIR": str(tmp_path),
        "GOURMET_SECURITY__STAFF_TOKEN": STAFF_TOKEN,
        "GOURMET_PAYMENTS__URL": "",
        "GOURMET_SERVER__PORT": str(port),
        # the tests' customers all come from 127.0.0.1
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        **settings,
    }
    command = [str(Path(sys.executable).with_name("gourmet")), "serve"]
    log = tmp_path / "server.log"
    return port, start(command, env, log, f"http://127.0.0.1:{port}/healthz")


async def keep_alive_request(port: int) -> tuple[asyncio.StreamWriter, bytes]:
    """Open a connection, ask for /healthz on it and keep it open, as a browser does."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: gourmet\r\n\r\n")
    await writer.drain()
    try:
        status_line = await asyncio.wait_for(reader.readline(), timeout=5.0)
    except TimeoutError:
        status_line = b"no answer within 5 s"
    return writer, status_line


async def test_serves_far_more_open_connections_than_its_backlog(
    database_url: str, tmp_path: Path
) -> None:
    """granian's connection cap follows the backlog unless told otherwise: with 256 keep-alive
    browsers (or live order streams) connected, the next customer could not even open the menu.
    ``gourmet serve`` sets it from GOURMET_SERVER__MAX_CONNECTIONS instead."""
    port, process = gourmet_serve(database_url, tmp_path, GOURMET_SERVER__BACKLOG=str(BACKLOG))
    writers: list[asyncio.StreamWriter] = []
    try:
        answered = 0
        for _ in range(3 * BACKLOG):  # one at a time: each is answered before the next connects
            writer, status_line = await keep_alive_request(port)
            writers.append(writer)
            if not status_line.startswith(b"HTTP/1.1 200"):
                break
            answered += 1
    finally:
        for writer in writers:
            writer.close()
        stop(process)
    assert answered == 3 * BACKLOG, f"connection {answered + 1} got {status_line!r}"


async def test_a_client_that_never_finishes_its_request_head_is_disconnected(
    database_url: str, tmp_path: Path
) -> None:
    """One byte and then nothing: without a header timeout thousands of such connections fill
    the connection cap and lock every customer out. GOURMET_SERVER__HEADER_READ_TIMEOUT_S ends
    them."""
    port, process = gourmet_serve(database_url, tmp_path, GOURMET_SERVER__HEADER_READ_TIMEOUT_S="1")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"G")
        await writer.drain()
        loop = asyncio.get_running_loop()
        started = loop.time()
        closed = await asyncio.wait_for(reader.read(), timeout=10.0)  # b"" or an error answer
        waited = loop.time() - started
        writer.close()
        # A well-behaved client on another connection is served meanwhile and after.
        _other, status_line = await keep_alive_request(port)
        _other.close()
    finally:
        stop(process)
    assert reader.at_eof(), f"still open after {waited:.1f} s: {closed!r}"
    assert waited < 5.0
    assert status_line.startswith(b"HTTP/1.1 200")


def open_files_after_serve_prepares(soft: int, hard: int, cap: int) -> tuple[int, str]:
    """The soft limit on open files, and what was printed, once serve has prepared a process
    that started with these limits, for a connection cap of ``cap``."""
    code = (
        "import resource\n"
        "from gourmet.cli.serve import _allow_open_files\n"
        "from gourmet.config import AdmissionSettings, ServerSettings, Settings\n"
        "_allow_open_files(Settings(\n"
        f"    server=ServerSettings(max_connections={cap}),\n"
        "    admission=AdmissionSettings(waiting_room_size=0),\n"
        "))\n"
        "print(resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    done = subprocess.run(
        [sys.executable, "-c", code],
        preexec_fn=limited,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    *said, last = done.stdout.strip().splitlines()
    return int(last), " ".join(said)


def test_serve_lets_a_worker_hold_its_connection_cap_open() -> None:
    """A soft limit of 1024 open files (common) would stop a worker accepting long before
    GOURMET_SERVER__MAX_CONNECTIONS, customers held in line among them."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = (
        3000
        if hard == resource.RLIM_INFINITY
        else min(3000, hard - 1 - OPEN_FILES_BESIDE_CONNECTIONS)
    )
    wanted = cap + OPEN_FILES_BESIDE_CONNECTIONS
    soft, said = open_files_after_serve_prepares(1024, hard, cap)
    assert soft >= wanted
    assert not said
    # Where the hard limit is too low, the operator is told what to raise.
    soft, said = open_files_after_serve_prepares(1024, 1024, 3000)
    assert soft == 1024
    assert "ulimit -Hn" in said
    assert "GOURMET_SERVER__MAX_CONNECTIONS (3000)" in said
