"""The open-model driver keeps its schedule against a server that stalls: arrivals follow the
clock, and the stall shows in the latencies (measured from each request's intended time)."""

from __future__ import annotations

import asyncio
import math

import pytest
from gourmet_tools.loadtest import loadstats, openload, traffic
from gourmet_tools.loadtest.loadrun import Phase

pytestmark = pytest.mark.anyio

RATE = 200.0
DURATION_S = 3.0
STALL = (1.0, 2.0)  # the server answers nothing between these seconds of the run
STALL_S = STALL[1] - STALL[0]


async def stalling_server() -> asyncio.Server:
    """Answers 200 at once, except while stalled: then it holds every answer until the stall
    ends. Its clock starts with the first request, so a slow start of the driver (a busy CI
    machine) does not move the stall against the run's own clock."""
    loop = asyncio.get_running_loop()
    start: list[float] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                if not start:
                    start.append(loop.time())
                now = loop.time() - start[0]
                if STALL[0] <= now < STALL[1]:
                    await asyncio.sleep(STALL[1] - now)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


async def test_arrivals_keep_their_rate_through_a_stall() -> None:
    server = await stalling_server()
    port = server.sockets[0].getsockname()[1]
    host = f"127.0.0.1:{port}"
    mix = [traffic.RequestKind("get", 1.0, (traffic.http_get(host, "/"),))]
    async with server:
        run = await openload.open_load(
            f"http://{host}",
            mix,
            [Phase("steady", RATE, DURATION_S)],
            poisson=False,
            timeout_s=5.0,
        )
    stalled = run.rows(STALL[0] + 0.1, STALL[1] - 0.1)
    # Every second of the schedule was sent on time, the stalled one too.
    assert abs(len(run.intended) - RATE * DURATION_S) <= 2
    assert abs(len(stalled) - RATE * (STALL_S - 0.2)) <= 2
    lateness = [run.sent[i] - run.intended[i] for i in stalled]
    assert max(lateness) < 0.05
    # A request sent at the stall's start waited for its end, and its latency says so.
    first = [run.latency[i] for i in run.rows(STALL[0] + 0.05, STALL[0] + 0.15)]
    assert all(not math.isnan(x) and x >= STALL_S - 0.25 for x in first)
    figures = loadstats.summarize(run, 0.0, DURATION_S + 1)
    assert figures["ok"] == len(run.intended)
