"""An open-model HTTP/1.1 load driver: arrivals follow a clock, never the responses.

A closed-loop tool (wrk, a pool of users) sends the next request only when the previous one is
answered, so a slow server slows the load down and the latencies it reports omit the time requests
would have waited (coordinated omission). Here every request has an *intended* send time taken from
a schedule (constant rate or Poisson), its latency is counted from that instant, and a request finds
a free keep-alive connection, opens a new one, or, with ``max_connections`` open and busy, is
counted as a client-side miss: nothing is silently delayed.

The driver is asyncio protocols over raw sockets (uvloop when installed) with requests encoded once
up front, because the machine it runs on also runs the server and PostgreSQL: every microsecond it
spends is taken from them. ``python -m gourmet_tools.loadtest.openload URL --rate R`` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import gc
import json
import math
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, cast
from urllib.parse import urlsplit

from gourmet_tools.loadtest.loadrun import CONN_ERROR, MISS, PENDING, TIMEOUT, Phase, Run
from gourmet_tools.loadtest.loadstats import summarize
from gourmet_tools.loadtest.traffic import RequestKind, arrivals, http_get

SWEEP_INTERVAL_S = 0.05
# uvloop's loop.time() is libuv's cached millisecond clock: too coarse for latencies of 1-2 ms.
clock = time.perf_counter


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    __slots__ = ("body_len", "buf", "deadline", "driver", "head_end", "row", "status", "transport")

    def __init__(self, driver: _Driver) -> None:
        self.driver = driver
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.row = -1  # the request in flight, -1 when idle
        self.deadline = math.inf
        self.head_end = -1
        self.status = 0
        self.body_len = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport; they have the same methods.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, row: int, payload: bytes, deadline: float) -> None:
        assert self.transport is not None
        self.row = row
        self.deadline = deadline
        self.head_end = -1
        self.transport.write(payload)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if self.row < 0:
            return
        if self.head_end < 0:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head_end = end + 4
            self.status = int(buf[9:12])
            head = bytes(buf[: self.head_end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                self.body_len = int(head[at + 17 : head.index(b"\r\n", at + 2)])
            elif b"chunked" in head:
                self.body_len = -1
            else:
                self.body_len = 0
        if self.body_len >= 0:
            total = self.head_end + self.body_len
            if len(buf) < total:
                return
        else:
            total = buf.find(b"\r\n0\r\n\r\n", self.head_end - 2)
            if total < 0:
                return
            total += 7
        head = bytes(buf[: self.head_end]).lower()
        # HTTP/1.1 keeps the connection unless told otherwise; HTTP/1.0 closes it unless told.
        if head.startswith(b"http/1.0"):
            keep_alive = b"\r\nconnection: keep-alive" in head
        else:
            keep_alive = b"\r\nconnection: close" not in head
        del buf[:total]
        row, self.row = self.row, -1
        self.driver.finished(self, row, self.status)
        if not keep_alive and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        row, self.row = self.row, -1
        self.driver.lost(self, row)


class _Driver:
    """Dispatches requests onto connections and records their outcomes in a :class:`Run`."""

    def __init__(
        self,
        host: str,
        port: int,
        mix: Sequence[RequestKind],
        run: Run,
        *,
        max_connections: int,
        timeout_s: float,
        rng: random.Random,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.host, self.port = host, port
        self.mix = list(mix)
        total = sum(kind.weight for kind in mix)
        self.cumulative = [sum(k.weight for k in mix[: i + 1]) / total for i in range(len(mix))]
        self.run = run
        self.max_connections = max_connections
        self.timeout_s = timeout_s
        self.rng = rng
        self.t0 = 0.0
        self.open = 0
        self.idle: dict[_Connection, None] = {}  # insertion-ordered: popitem() is LIFO
        self.busy: set[_Connection] = set()
        self.in_flight = 0
        self.on_finish: Callable[[_Connection], None] | None = None
        self.drained: asyncio.Event | None = None

    def dispatch(self, intended: float) -> None:
        """Send one request intended at loop time ``intended``, on whatever connection is free."""
        run, now = self.run, clock()
        rng = self.rng
        k = min(bisect.bisect_left(self.cumulative, rng.random()), len(self.mix) - 1)
        kind, row = self.mix[k], len(run.status)
        payload = kind.make(row) if kind.make else kind.payloads[rng.randrange(len(kind.payloads))]
        run.intended.append(intended - self.t0)
        run.sent.append(now - self.t0)
        run.kind.append(k)
        run.latency.append(math.nan)
        if self.idle:
            conn, _ = self.idle.popitem()
            run.status.append(PENDING)
            self.in_flight += 1
            self.busy.add(conn)
            conn.send(row, payload, intended + self.timeout_s)
        elif self.open < self.max_connections:
            run.status.append(PENDING)
            self.in_flight += 1
            self.open += 1
            run.connections_opened += 1
            run.peak_connections = max(run.peak_connections, self.open)
            self.loop.create_task(self._connect_and_send(row, payload, intended + self.timeout_s))
        else:
            run.status.append(MISS)

    async def _connect_and_send(self, row: int, payload: bytes, deadline: float) -> None:
        try:
            _, conn = await asyncio.wait_for(
                self.loop.create_connection(lambda: _Connection(self), self.host, self.port),
                max(deadline - clock(), 0.001),
            )
        except TimeoutError:
            self.open -= 1
            self._record(row, TIMEOUT)
            return
        except OSError:
            self.open -= 1
            self._record(row, CONN_ERROR)
            return
        self.busy.add(conn)
        conn.send(row, payload, deadline)

    def _record(self, row: int, status: int) -> None:
        run = self.run
        if run.status[row] != PENDING:
            return
        run.status[row] = status
        if status > 0:
            run.latency[row] = clock() - self.t0 - run.intended[row]
        self.in_flight -= 1
        if self.in_flight == 0 and self.drained is not None:
            self.drained.set()

    def finished(self, conn: _Connection, row: int, status: int) -> None:
        self._record(row, status)
        self.busy.discard(conn)
        if conn.transport is None:
            return
        if self.on_finish is not None:
            self.on_finish(conn)
        else:
            self.idle[conn] = None

    def lost(self, conn: _Connection, row: int) -> None:
        self.open -= 1
        self.busy.discard(conn)
        self.idle.pop(conn, None)
        if row >= 0:
            self._record(row, CONN_ERROR)

    async def sweep_timeouts(self) -> None:
        """Give up on requests past their deadline: record a timeout and drop the connection."""
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            now = clock()
            for conn in [c for c in self.busy if c.deadline < now]:
                self.busy.discard(conn)
                row, conn.row = conn.row, -1
                if row >= 0:
                    self._record(row, TIMEOUT)
                if conn.transport is not None:
                    conn.transport.abort()

    async def drain(self) -> None:
        """Wait for every request in flight to end (each ends by its deadline at the latest)."""
        if self.in_flight > 0:
            self.drained = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.drained.wait(), self.timeout_s + 1.0)

    def close(self) -> None:
        for conn in [*self.idle, *self.busy]:
            if conn.transport is not None:
                conn.transport.close()
        self.idle.clear()


def _parse_url(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 80


async def _with_driver(
    url: str,
    mix: Sequence[RequestKind],
    run: Run,
    body: Callable[[_Driver], Any],
    *,
    max_connections: int,
    timeout_s: float,
    seed: int,
) -> Run:
    host, port = _parse_url(url)
    driver = _Driver(
        host,
        port,
        mix,
        run,
        max_connections=max_connections,
        timeout_s=timeout_s,
        rng=random.Random(seed),
    )
    sweeper = asyncio.create_task(driver.sweep_timeouts())
    # The recorded lists grow by millions of objects: cyclic GC passes over them would stall
    # the loop for tens of milliseconds and show up as latency that the server never caused.
    gc.collect()
    gc.disable()
    try:
        await body(driver)
        await driver.drain()
    finally:
        gc.enable()
        sweeper.cancel()
        driver.close()
    return run


async def open_load(
    url: str,
    mix: Sequence[RequestKind],
    phases: Sequence[Phase],
    *,
    poisson: bool = True,
    max_connections: int = 512,
    timeout_s: float = 5.0,
    seed: int = 1,
) -> Run:
    """Offer ``phases`` of arrivals to the server at ``url``; return the recorded :class:`Run`."""
    run = Run(phases=list(phases), kinds=[kind.name for kind in mix])

    async def schedule(driver: _Driver) -> None:
        driver.t0 = t0 = clock() + 0.01
        for offset in arrivals(phases, poisson=poisson, rng=random.Random(seed + 1)):
            intended = t0 + offset
            now = clock()
            if intended > now:
                # Sleeping costs a timer per wake-up; at high rates each wake-up sends a batch,
                # every request still stamped with its own intended time.
                await asyncio.sleep(intended - now)
            driver.dispatch(intended)

    return await _with_driver(
        url,
        mix,
        run,
        schedule,
        max_connections=max_connections,
        timeout_s=timeout_s,
        seed=seed,
    )


async def closed_load(
    url: str,
    mix: Sequence[RequestKind],
    *,
    concurrency: int,
    duration_s: float,
    timeout_s: float = 5.0,
    seed: int = 1,
) -> Run:
    """``concurrency`` connections, each sending its next request as soon as one is answered:
    the throughput it reaches is the server's capacity for the mix."""
    run = Run(phases=[Phase("closed", 0.0, duration_s)], kinds=[kind.name for kind in mix])

    async def loop_until_done(driver: _Driver) -> None:
        driver.t0 = clock()
        end = driver.t0 + duration_s

        def next_request(conn: _Connection) -> None:
            now = clock()
            if now < end:
                driver.idle[conn] = None
                driver.dispatch(now)
            else:
                driver.idle[conn] = None

        driver.on_finish = next_request
        for _ in range(concurrency):
            driver.dispatch(clock())
        await asyncio.sleep(duration_s)

    return await _with_driver(
        url,
        mix,
        run,
        loop_until_done,
        max_connections=concurrency,
        timeout_s=timeout_s,
        seed=seed,
    )


def install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main() -> None:
    parser = argparse.ArgumentParser(description="Open-model load against one URL (GET).")
    parser.add_argument("url")
    parser.add_argument("--rate", type=float, required=True, help="arrivals per second")
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--constant", action="store_true", help="constant spacing, not Poisson")
    parser.add_argument("--max-connections", type=int, default=512)
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args()

    install_uvloop()
    parts = urlsplit(args.url)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    mix = [RequestKind("get", 1.0, (http_get(parts.netloc, path),))]
    run = asyncio.run(
        open_load(
            args.url,
            mix,
            [Phase("load", args.rate, args.duration)],
            poisson=not args.constant,
            max_connections=args.max_connections,
            timeout_s=args.timeout,
        )
    )
    figures = summarize(run, 0.0, args.duration)
    figures["peak_connections"] = run.peak_connections
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
