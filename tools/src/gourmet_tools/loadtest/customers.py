"""Customers, not requests: each arrives when the schedule says and places one order as the
checkout page does (:mod:`gourmet_tools.checkout_page`, the one model of its retries: one
Idempotency-Key, the waiting room's ticket sent back, Retry-After obeyed, no deadline header),
until it places the order, the page stops, or their patience runs out (an attempt still in
flight then abandoned, its connection closed). The database is read afterwards for what happened
to them: orders lost, duplicated, placed but never acknowledged.

Used by ``gourmet loadtest``, ``gourmet replay-incident`` and ``bench.retrying``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import dict_row

from gourmet_tools.checkout_page import NO_ANSWER, Answer, CheckoutPage, OldCheckoutPage
from gourmet_tools.loadtest.loadrun import Phase
from gourmet_tools.loadtest.traffic import arrivals
from gourmet_tools.percentiles import known, percentile

CONNECTION_LOST = -1  # an attempt that got no answer (refused, reset, closed)
Page = CheckoutPage | OldCheckoutPage


@dataclass
class Customer:
    index: int
    arrives_s: float  # after the start of the run
    body: bytes
    key: str
    attempts: int = 0
    acknowledged_s: float | None = None  # when the order was confirmed to them
    token: str | None = None
    refused: int | None = None  # a 4xx status that the page shows instead of retrying
    abandoned_in_flight: bool = False  # gave up while an attempt was still unanswered
    reloads: int = 0  # the old page: attempts left to spin and sent again (no key)
    errors: dict[int, int] = field(default_factory=dict)  # 5xx answers by status
    # Every answer: when (seconds from the run's start) and its status (CONNECTION_LOST: none).
    answers: list[tuple[float, int]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # of each answered attempt, seconds


class _NoAnswerError(ConnectionError):
    """The connection ended before the first byte of an answer."""


class Connections:
    """Keep-alive connections shared by the customers, as browsers keep theirs: an attempt takes
    an idle one or opens one, and gives it back once its answer is read. An attempt abandoned
    mid-way closes its connection (the server sees the client go). A kept connection that the
    server closed meanwhile is replaced at once, as a browser does, not counted as an error
    (Gourmet closes one idle for GOURMET_SERVER__HEADER_READ_TIMEOUT_S, shorter than a wait in
    line)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def post(
        self, customer: Customer, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        head = (
            f"POST /api/orders HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(customer.body)}\r\n"
        )
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = head.encode() + b"\r\n" + customer.body
        while self._idle:
            # A kept connection the server has since closed (idle too long) fails before any
            # answer: a browser then sends the request again on a new connection, at once.
            with contextlib.suppress(_NoAnswerError):
                return await self._exchange(*self._idle.pop(), request)
        reader, writer = await asyncio.open_connection(self.host, self.port)
        self.opened += 1
        try:
            return await self._exchange(reader, writer, request)
        except _NoAnswerError as exc:
            raise ConnectionResetError("the server closed a new connection unanswered") from exc

    async def _exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        reusable = False
        try:
            writer.write(request)
            try:
                raw = await reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError) as exc:
                if isinstance(exc, asyncio.IncompleteReadError) and exc.partial:
                    raise
                raise _NoAnswerError from exc
            status_line, *lines = raw.decode("latin-1").split("\r\n")
            headers = {}
            for line in lines:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            reusable = headers.get("connection", "").lower() != "close"
            return int(status_line.split()[1]), headers, body
        finally:
            if reusable:
                self._idle.append((reader, writer))
            else:
                writer.close()

    def close(self) -> None:
        for _reader, writer in self._idle:
            writer.close()
        self._idle.clear()


async def shop(
    connections: Connections,
    customer: Customer,
    start: float,
    patience_s: float,
    page_of: Callable[[float, Customer], Page],
) -> None:
    """One customer's checkout on the page ``page_of(now, customer)`` makes."""
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(start + customer.arrives_s - loop.time(), 0))
    give_up_at = start + customer.arrives_s + patience_s
    page = page_of(loop.time(), customer)
    while (left := give_up_at - loop.time()) > 0:
        customer.attempts += 1
        sent = loop.time()
        spinner = page.spinner_s
        limit = left if spinner is None else min(left, spinner)
        try:
            status, headers, body = await asyncio.wait_for(
                connections.post(customer, page.headers()), limit
            )
        except TimeoutError:
            if limit < left:  # the spinner, not their patience, ran out: reload, send again
                page.reloaded()
                customer.reloads += 1
                continue
            customer.abandoned_in_flight = True
            return
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            status, headers, body = CONNECTION_LOST, {}, b""
        customer.answers.append((loop.time() - start, status))
        customer.latencies.append(loop.time() - sent)
        if status >= 500:
            customer.errors[status] = customer.errors.get(status, 0) + 1
        step = page.after(Answer.from_http(max(status, NO_ANSWER), headers, body), loop.time())
        if step.action == "placed":
            customer.acknowledged_s = loop.time() - start
            customer.token = json.loads(body)["token"]
            return
        if step.action != "retry":  # a problem the page shows, or the page's patience is over
            customer.refused = status if 0 < status < 500 else None
            return
        await asyncio.sleep(min(step.wait_s, max(give_up_at - loop.time(), 0)))


async def run_population(
    base: str,
    customers: list[Customer],
    patience_s: float,
    storm_wait_s: float | None = None,
    old_page: bool = False,
) -> tuple[float, int]:
    """Every customer shops, each at their arrival time (on the old platform's checkout page
    when ``old_page``); the run's length and connections."""
    host, port = _host_port(base)
    connections = Connections(host, port)
    loop = asyncio.get_running_loop()

    def page_of(now_s: float, customer: Customer) -> Page:
        if old_page:
            return OldCheckoutPage(now_s)
        return CheckoutPage(now_s, customer.key, storm_wait_s=storm_wait_s)

    start = loop.time() + 0.5
    try:
        await asyncio.gather(*(shop(connections, c, start, patience_s, page_of) for c in customers))
    finally:
        connections.close()
    return loop.time() - start, connections.opened


def _host_port(base: str) -> tuple[str, int]:
    parts = urlsplit(base)
    return parts.hostname or "127.0.0.1", parts.port or 80


def population(
    bodies: list[dict[str, Any]], phases: Sequence[Phase], tag: str, seed: int = 7
) -> list[Customer]:
    """Customers arriving as ``phases`` say (Poisson, the open-model driver's schedule); each
    customer's name is the run's tag and their index, their key new to the run."""
    rng = random.Random(seed)
    customers: list[Customer] = []
    for at in arrivals(phases, poisson=True, rng=rng):
        index = len(customers)
        body = dict(bodies[index % len(bodies)])
        body["customer"] = {"name": f"{tag}-{index}", "phone": "555-0100"}
        encoded = json.dumps(body, separators=(",", ":")).encode()
        key = f"{tag}-{uuid.UUID(int=rng.getrandbits(128))}"
        customers.append(Customer(index, at, encoded, key))
    return customers


def spearman(xs: list[float], ys: list[float]) -> float | None:
    """Spearman's rank correlation of two equally long lists without ties."""
    n = len(xs)
    if n < 3:
        return None
    rank_x = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: xs[i]))}
    rank_y = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: ys[i]))}
    d2 = sum((rank_x[i] - rank_y[i]) ** 2 for i in range(n))
    return 1 - 6 * d2 / (n * (n * n - 1))


def settled_orders(url: str, tag: str, quiet_s: float = 5.0, limit_s: float = 60.0) -> int:
    """Wait until no order of this run has been stored for ``quiet_s`` (at most ``limit_s``):
    a server can still commit orders whose customers already left (the incident profile's
    requests wait up to 30 s for a connection), and those count as never acknowledged."""
    started = time.monotonic()
    last, last_change = -1, started
    while True:
        with psycopg.connect(url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM orders WHERE customer_name LIKE %s", (f"{tag}-%",)
            ).fetchone()
        count = int(row[0]) if row else 0
        now = time.monotonic()
        if count != last:
            last, last_change = count, now
        if now - last_change >= quiet_s or now - started >= limit_s:
            return count
        time.sleep(0.5)


def audit(url: str, tag: str, customers: list[Customer], patience_s: float) -> dict[str, Any]:
    """What the customers saw, checked against what the database holds once it is quiet."""
    settled_orders(url, tag)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT customer_name, token, created_at FROM orders WHERE customer_name LIKE %s",
            (f"{tag}-%",),
        ).fetchall()
    stored: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        stored.setdefault(int(row["customer_name"].rsplit("-", 1)[1]), []).append(row)
    acknowledged = [c for c in customers if c.token is not None]
    tokens = {row["token"] for row in rows}
    waits = [c.acknowledged_s - c.arrives_s for c in acknowledged if c.acknowledged_s is not None]
    ranked = [c for c in acknowledged if c.index in stored]
    committed = [stored[c.index][0]["created_at"].timestamp() for c in ranked]
    n = len(customers)
    return {
        "customers": n,
        "placed_within_patience": len(acknowledged),
        "placed_share": len(acknowledged) / n if n else 0.0,
        "gave_up": sum(1 for c in customers if c.token is None and c.refused is None),
        "refused_4xx": sum(1 for c in customers if c.refused is not None),
        "abandoned_in_flight": sum(1 for c in customers if c.abandoned_in_flight),
        "answers_5xx": dict(sum((Counter(c.errors) for c in customers), Counter())),
        "refused_by_status": dict(Counter(c.refused for c in customers if c.refused is not None)),
        "wait_p50_s": known(percentile(waits, 50)),
        "wait_p99_s": known(percentile(waits, 99)),
        "wait_max_s": max(waits, default=None),
        "attempts_mean": sum(c.attempts for c in customers) / n if n else 0.0,
        "attempts_max": max((c.attempts for c in customers), default=0),
        "reloads": sum(c.reloads for c in customers),
        "rank_correlation": spearman([c.arrives_s for c in ranked], committed),
        "lost": sum(1 for c in acknowledged if c.token not in tokens),
        "duplicated": sum(len(orders) - 1 for orders in stored.values()),
        "unacknowledged": sum(1 for c in customers if c.token is None and c.index in stored),
        "patience_s": patience_s,
    }
