"""Idle and trickling connections against a real ``gourmet serve`` (hostile probe, finding 2).

granian's header read timeout starts at a connection's first byte: a socket that never sends one
was held for good, and 8,706 of them made ``/healthz`` and ``/api/menu`` time out on connect for
everyone. Each worker now closes such sockets (GOURMET_SERVER__FIRST_BYTE_TIMEOUT_S), caps the
connections one address holds (GOURMET_SERVER__CONNECTIONS_PER_ADDRESS), and reads every request
body within GOURMET_SERVER__BODY_READ_TIMEOUT_S.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import resource
import select
import socket
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import pytest

from gourmet.resilience.connections import Sweep, SweepRules
from tests.conftest import FixtureMenu
from tests.polling import wait_for
from tests.processes import stop
from tests.test_serve import gourmet_serve

pytestmark = pytest.mark.anyio

IDLE_SOCKETS = 9000
# A botnet, not one host: 150 sockets from each of 60 loopback addresses stay under the
# per-address cap, so only the first-byte timeout can free them.
SOURCES = [f"127.0.{n // 250 + 1}.{n % 250 + 1}" for n in range(60)]
CONNECTS_AT_ONCE = 256
CONNECT_TIMEOUT_S = 3.0
FIRST_BYTE_TIMEOUT_S = 2.0  # the default
PROBE_TIMEOUT_S = 10.0
PROBE_EVERY_S = 0.2
# A customer on another connection is answered within this while the sockets are held: at
# worst after one SYN retransmission (1 s), should every slot be taken for a moment.
PROMPT_S = 3.0
CLOSED_WITHIN_S = 20.0
OPEN_FILES_BESIDE = 512  # pytest, the database, the probes


@pytest.fixture
def open_files_for_idle_sockets() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = IDLE_SOCKETS + OPEN_FILES_BESIDE
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard limit on open files ({hard}) is below the {wanted} this needs")
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


Held = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


async def open_idle_sockets(port: int, count: int, held: Held) -> int:
    """Connect ``count`` sockets that send nothing, spread over SOURCES; how many connected."""
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def one(source: str) -> None:
        async with gate:
            with contextlib.suppress(OSError, TimeoutError):
                opened = asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
                held.append(await asyncio.wait_for(opened, CONNECT_TIMEOUT_S))

    await asyncio.gather(*(one(SOURCES[n % len(SOURCES)]) for n in range(count)))
    return len(held)


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        return await reader.read(1) == b""
    except ConnectionError:
        return True


async def answered_in(base: str, path: str) -> float:
    """Seconds to answer ``path`` on a connection of its own (fresh, as a new customer's);
    PROBE_TIMEOUT_S and more when it was not answered at all."""
    started = time.monotonic()
    try:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base, limits=limits) as client:
            response = await client.get(path, timeout=PROBE_TIMEOUT_S)
    except httpx.TransportError:
        return PROBE_TIMEOUT_S + time.monotonic() - started
    assert response.status_code == 200, (path, response.status_code)
    return time.monotonic() - started


async def test_nine_thousand_silent_sockets_neither_lock_customers_out_nor_stay_open(
    database_url: str, tmp_path: Path, menu: FixtureMenu, open_files_for_idle_sockets: None
) -> None:
    """9,000 sockets that connect and send nothing, against two workers of 4,096 connections
    each: the menu and the health check are still answered from another connection, and the
    server closes every one of the silent sockets."""
    port, process = gourmet_serve(
        database_url,
        tmp_path,
        GOURMET_SERVER__WORKERS="2",
        GOURMET_SERVER__FIRST_BYTE_TIMEOUT_S=str(FIRST_BYTE_TIMEOUT_S),
    )
    base = f"http://127.0.0.1:{port}"
    held: Held = []
    try:
        opening_started = time.monotonic()
        opening = asyncio.ensure_future(open_idle_sockets(port, IDLE_SOCKETS, held))
        waits: dict[str, list[float]] = {"/healthz": [], "/api/menu": []}
        while not opening.done() or len(waits["/healthz"]) < 3:  # while they are held
            for path, took in waits.items():
                took.append(await answered_in(base, path))
            await asyncio.wait({opening}, timeout=PROBE_EVERY_S)
        connected = opening.result()
        opening_took = time.monotonic() - opening_started
        closing = asyncio.gather(*(closed_by_server(reader) for reader, _ in held))
        try:
            closed = sum(await asyncio.wait_for(closing, CLOSED_WITHIN_S))
        except TimeoutError:
            closed = 0  # not every one within the deadline
    finally:
        for _, writer in held:
            writer.close()
        stop(process)
    print(  # the figures the security table quotes (pytest -s)
        f"\n{connected} silent sockets connected in {opening_took:.1f} s;"
        f" /healthz answered in {', '.join(f'{t:.2f}' for t in waits['/healthz'])} s;"
        f" /api/menu in {', '.join(f'{t:.2f}' for t in waits['/api/menu'])} s;"
        f" closed by the server within {CLOSED_WITHIN_S:.0f} s: {closed}"
    )
    assert connected >= IDLE_SOCKETS * 0.9, f"only {connected} sockets connected"
    for path, took in waits.items():
        assert max(took) < PROMPT_S, f"{path} took {max(took):.1f} s with the sockets open"
    assert closed == connected


async def request_and_keep(
    port: int, source: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A keep-alive connection from ``source`` that has asked for /healthz and read the answer
    whole: not silent, so only the per-address cap can end it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    status = await healthz_on(reader, writer)
    assert status == 200, status
    return reader, writer


async def healthz_on(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: gourmet\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), PROBE_TIMEOUT_S)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return int(head.split(b" ", 2)[1])


async def until_closed(ends: Sequence[asyncio.Future[bool]], count: int) -> None:
    """Wait until ``count`` of the connections have been closed, or CLOSED_WITHIN_S."""
    deadline = asyncio.get_running_loop().time() + CLOSED_WITHIN_S
    pending = set(ends)
    while pending and sum(end.done() for end in ends) < count:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return
        _, pending = await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)


async def test_one_address_keeps_at_most_its_share_of_connections(
    database_url: str, tmp_path: Path
) -> None:
    """Connections one address holds beyond GOURMET_SERVER__CONNECTIONS_PER_ADDRESS (on a worker)
    are closed by the server, the quietest first; those within it, and other addresses, are
    served."""
    cap, opened = 16, 48
    port, process = gourmet_serve(
        database_url,
        tmp_path,
        GOURMET_SERVER__WORKERS="1",
        GOURMET_SERVER__CONNECTIONS_PER_ADDRESS=str(cap),
    )
    held: Held = []
    try:
        for _ in range(opened):
            held.append(await request_and_keep(port, "127.0.0.2"))
        ends = [asyncio.ensure_future(closed_by_server(reader)) for reader, _ in held]
        await until_closed(ends, opened - cap)
        closed = sum(end.done() for end in ends)
        survivors = [
            connection for connection, end in zip(held, ends, strict=True) if not end.done()
        ]
        for end in ends:
            end.cancel()
        statuses = [await healthz_on(reader, writer) for reader, writer in survivors]
        other_address = await answered_in(f"http://127.0.0.1:{port}", "/healthz")
    finally:
        for _, writer in held:
            writer.close()
        stop(process)
    assert closed == opened - cap
    assert statuses == [200] * cap
    assert other_address < PROMPT_S


BODY_READ_TIMEOUT_S = 1.0
TRICKLE_EVERY_S = 0.1  # the attacker's pace: a byte each tenth of a second
TRICKLE_FOR_S = 10.0


def sign_in_head(length: int) -> bytes:
    return (
        b"POST /ops/login HTTP/1.1\r\nHost: gourmet\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(length).encode() + b"\r\n\r\n"
    )


async def test_a_trickled_body_is_answered_408_at_the_body_deadline(
    database_url: str, tmp_path: Path
) -> None:
    """A sign-in form sent a byte at a time is answered 408 (problem+json, connection closed)
    once GOURMET_SERVER__BODY_READ_TIMEOUT_S has passed, not read for as long as the client likes.
    The request deadline is set far above it: only the body deadline can answer in time."""
    port, process = gourmet_serve(
        database_url,
        tmp_path,
        GOURMET_SERVER__BODY_READ_TIMEOUT_S=str(BODY_READ_TIMEOUT_S),
        GOURMET_ADMISSION__DEADLINE_S="10",
    )
    loop = asyncio.get_running_loop()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        started = loop.time()
        writer.write(sign_in_head(length=200))
        answer = asyncio.ensure_future(reader.read())  # all of it, until the server closes
        with contextlib.suppress(ConnectionError):
            while not answer.done() and loop.time() - started < TRICKLE_FOR_S:
                writer.write(b"t")
                await writer.drain()
                await asyncio.wait({answer}, timeout=TRICKLE_EVERY_S)
        answered_after = loop.time() - started
        try:
            response = await asyncio.wait_for(answer, PROBE_TIMEOUT_S)
        except TimeoutError:
            response = b"no answer"
        writer.close()
    finally:
        stop(process)
    assert response.startswith(b"HTTP/1.1 408"), response[:300]
    assert b"application/problem+json" in response.lower()
    assert answered_after < BODY_READ_TIMEOUT_S + 1.0


async def test_a_client_leaving_mid_body_is_no_server_error(
    database_url: str, tmp_path: Path
) -> None:
    """A client that sends half a sign-in form and leaves ends a request nobody answers: it is
    counted as an unfinished body, never as a 500 (in the metrics or the log)."""
    port, process = gourmet_serve(
        database_url, tmp_path, GOURMET_LOGS__OK_SAMPLE="1", GOURMET_LOGS__JSON_LINES="true"
    )
    unfinished = 'gourmet_request_bodies_unfinished_total{outcome="disconnect"} 1.0'
    try:
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(sign_in_head(length=200) + b"token=half")
        await writer.drain()
        writer.close()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            metrics = await wait_for(
                lambda: client.get("/metrics"),
                lambda page: unfinished in page.text,
                timeout_s=10,
            )
    finally:
        stop(process)
    server_log = (tmp_path / "server.log").read_text()
    assert 'status="500"' not in metrics.text
    assert '"status": 500' not in server_log


def has_ended(client: socket.socket) -> bool:
    """Whether the server has closed this connection (its end has arrived), without waiting."""
    client.setblocking(False)
    try:
        return client.recv(1) == b""
    except BlockingIOError:
        return False


def test_the_sweep_closes_the_silent_and_the_excess_and_spares_the_rest() -> None:
    """The sweep's rules on real sockets of this process: silent connections go; beyond the
    per-address cap the quietest go; a trusted proxy's connections stay, however many."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def connect(source: str, speak: bool) -> tuple[socket.socket, socket.socket]:
            client = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
            server_side, _ = listener.accept()
            if speak:
                client.sendall(b"G")
                assert server_side.recv(1) == b"G"  # the byte has arrived
            return client, server_side

        silent = [connect("127.0.0.3", speak=False) for _ in range(2)]
        speaking = [connect("127.0.0.3", speak=True) for _ in range(3)]
        proxied = [connect("127.0.0.4", speak=True) for _ in range(3)]
        rules = SweepRules(
            port=port,
            first_byte_ms=0,
            per_address=1,
            exempt=(ipaddress.ip_network("127.0.0.4/32"),),
        )
        closed = Sweep(rules).run()
        clients = [client for client, _ in silent + speaking + proxied]
        select.select(clients, [], [], CLOSED_WITHIN_S)  # until the first end arrives
        ended = [has_ended(client) for client in clients]
        for client, server_side in silent + speaking + proxied:
            client.close()
            server_side.close()
    assert closed == {"silent": 2, "over_address_cap": 2}
    assert ended[:2] == [True, True]
    assert sum(ended[2:5]) == 2
    assert ended[5:] == [False, False, False]
