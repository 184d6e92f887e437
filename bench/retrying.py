"""``python -m bench.retrying``: customers, not requests. A population arrives faster than checkout
can place orders, and each customer behaves as the checkout page does: one Idempotency-Key for the
order, a retry after every 503 when its Retry-After says (sending back the waiting room's ticket, so
the place in line is kept), a retry 2 s after a lost connection, and giving up 120 s after arriving
(an attempt still in flight then is abandoned, its connection closed).

1. Checkout capacity: closed loops of checkouts only (as ``bench.overload`` measures capacity).
2. For each profile (a fresh server each, the same database): customers arrive (Poisson) at
   RETRY_OFFERED times that capacity for RETRY_ARRIVAL_S seconds, then the run lasts until every
   customer has an order or has given up.
3. The database is read afterwards: orders lost (acknowledged, not stored), duplicated (a customer
   with two), and placed but never acknowledged (stored, the customer gave up without hearing).

Figures per profile: customers placed within their patience, wait p50/p99 from arrival to the
acknowledgement, attempts per customer, and how close placement order is to arrival order
(Spearman's rank correlation between arrival and the order's commit time; 1.0 is first come,
first served).

Why not 10x capacity: arrivals at 10x checkout capacity for 30 s are 300 s of orders; no server
whose capacity that is can place 99% of them within 150 s of the first arrival. The default, 2x for
30 s, is a 30 s backlog: every customer in it must wait their turn, up to half a minute.

A retry storm (RETRY_STORM_WAIT_S=0): customers who ignore Retry-After and try again at once.

Knobs (environment): RETRY_OFFERED (2.0), RETRY_ARRIVAL_S (30), RETRY_PATIENCE_S (120),
RETRY_PROFILES (hardened,incident), RETRY_CAPACITY (skip the measurement), OVERLOAD_POOL_MAX_SIZE
and OVERLOAD_CPU_SPLIT as for ``bench.overload``.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
from psycopg.rows import dict_row

from bench import openload
from bench.__main__ import DATABASE, RESULTS, ROOT, prepare_database
from bench.openload import RequestKind
from bench.overload import (
    Plan,
    Target,
    checkout_bodies,
    cpu_split,
    gourmet,
    measure_capacity,
    pin_tree,
    wait_for_quiet,
)
from gourmet.db.embedded import start_embedded

PGDATA = ROOT / "var" / "retrying-pgdata"
CONNECTION_RETRY_S = 2  # what the checkout page waits after a lost connection
GOALS = {"placed_share": 0.99, "lost": 0, "duplicated": 0, "unacknowledged": 0}


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
    errors: dict[int, int] = field(default_factory=dict)  # 5xx answers by status


class Connections:
    """Keep-alive connections shared by the customers, as browsers keep theirs: an attempt takes
    an idle one or opens one, and gives it back once its answer is read. An attempt abandoned
    mid-way closes its connection (the server sees the client go)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def post(
        self, customer: Customer, ticket: str | None, deadline_ms: int
    ) -> tuple[int, dict[str, str], bytes]:
        if self._idle:
            reader, writer = self._idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.opened += 1
        reusable = False
        try:
            head = (
                f"POST /api/orders HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(customer.body)}\r\n"
                f"Idempotency-Key: {customer.key}\r\nX-Request-Deadline-Ms: {deadline_ms}\r\n"
            )
            if ticket:
                head += f"Gourmet-Ticket: {ticket}\r\n"
            writer.write(head.encode() + b"\r\n" + customer.body)
            raw = await reader.readuntil(b"\r\n\r\n")
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


async def _shop(
    connections: Connections,
    customer: Customer,
    start: float,
    patience_s: float,
    storm_wait_s: float | None,
) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(start + customer.arrives_s - loop.time(), 0))
    give_up_at = start + customer.arrives_s + patience_s
    ticket: str | None = None
    while (left := give_up_at - loop.time()) > 0:
        customer.attempts += 1
        try:
            # The customer's remaining patience is the request's deadline: the server starts
            # no order for someone who will have gone before it is confirmed.
            status, headers, body = await asyncio.wait_for(
                connections.post(customer, ticket, max(int(left * 1000), 1)), left
            )
        except TimeoutError:
            customer.abandoned_in_flight = True
            return
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
            wait_s: float = CONNECTION_RETRY_S
        else:
            if status in (200, 201):
                customer.acknowledged_s = loop.time() - start
                customer.token = json.loads(body)["token"]
                return
            if status < 500:
                customer.refused = status
                return
            # 503 (busy, in line): as Retry-After says. Any other 5xx: the customer clicks
            # "Place order" again a little later.
            wait_s = float(headers.get("retry-after", CONNECTION_RETRY_S))
            if storm_wait_s is not None:  # a client that ignores Retry-After
                wait_s = storm_wait_s
            ticket = headers.get("gourmet-ticket", ticket)
            customer.errors[status] = customer.errors.get(status, 0) + 1
        await asyncio.sleep(min(wait_s, max(give_up_at - loop.time(), 0)))


async def _run_population(
    target: Target, customers: list[Customer], patience_s: float, storm_wait_s: float | None
) -> tuple[float, int]:
    host, port = target.base.removeprefix("http://").split(":")
    connections = Connections(host, int(port))
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.5
    try:
        await asyncio.gather(
            *(_shop(connections, c, start, patience_s, storm_wait_s) for c in customers)
        )
    finally:
        connections.close()
    return loop.time() - start, connections.opened


def population(
    bodies: list[dict[str, Any]], rate: float, arrival_s: float, tag: str, seed: int = 7
) -> list[Customer]:
    """Poisson arrivals at ``rate`` for ``arrival_s``; each customer's name is their id."""
    rng = random.Random(seed)
    customers: list[Customer] = []
    at = rng.expovariate(rate)
    while at < arrival_s:
        index = len(customers)
        body = dict(bodies[index % len(bodies)])
        body["customer"] = {"name": f"{tag}-{index}", "phone": "555-0100"}
        encoded = json.dumps(body, separators=(",", ":")).encode()
        key = f"{tag}-{uuid.UUID(int=rng.getrandbits(128))}"  # a new key per run and profile
        customers.append(Customer(index, at, encoded, key))
        at += rng.expovariate(rate)
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


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


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
        "wait_p50_s": percentile(waits, 0.5),
        "wait_p99_s": percentile(waits, 0.99),
        "wait_max_s": max(waits, default=None),
        "attempts_mean": sum(c.attempts for c in customers) / n if n else 0.0,
        "attempts_max": max((c.attempts for c in customers), default=0),
        "rank_correlation": spearman([c.arrives_s for c in ranked], committed),
        "lost": sum(1 for c in acknowledged if c.token not in tokens),
        "duplicated": sum(len(orders) - 1 for orders in stored.values()),
        "unacknowledged": sum(1 for c in customers if c.token is None and c.index in stored),
        "patience_s": patience_s,
    }


def main() -> None:
    plan = Plan.from_env()
    offered = float(os.environ.get("RETRY_OFFERED", "2.0"))
    arrival_s = float(os.environ.get("RETRY_ARRIVAL_S", "30"))
    patience_s = float(os.environ.get("RETRY_PATIENCE_S", "120"))
    profiles = os.environ.get("RETRY_PROFILES", "hardened,incident").split(",")
    capacity = float(os.environ.get("RETRY_CAPACITY", "0"))
    storm = os.environ.get("RETRY_STORM_WAIT_S")
    storm_wait_s = float(storm) if storm else None
    split = cpu_split(plan.cpu_split)
    embedded = start_embedded(PGDATA)
    if split is not None and embedded.postmaster_pid is not None:
        pin_tree(embedded.postmaster_pid, split.postgres)
        os.sched_setaffinity(0, split.driver)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "plan": asdict(plan),
        "offered_x_capacity": offered,
        "arrival_s": arrival_s,
        "storm_wait_s": storm_wait_s,
        "goals": GOALS,
        "profiles": {},
    }
    results["idle_machine_cpu_pct"] = wait_for_quiet(plan.quiet_wait_s)
    try:
        url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
        for profile in profiles:
            with gourmet(url, profile, plan, embedded.postmaster_pid, split) as target:
                with httpx.Client(base_url=target.base, timeout=10) as client:
                    bodies = checkout_bodies(client)
                if capacity == 0.0:
                    host = target.base.removeprefix("http://")
                    payloads = tuple(
                        openload.http_post_json(host, "/api/orders", body) for body in bodies
                    )
                    mix = [RequestKind("checkout", 1.0, payloads)]
                    measured = measure_capacity(target, mix, plan)
                    capacity = measured["goodput_per_s"]
                    results["capacity"] = measured
                    print(f"checkout capacity: {capacity:.0f} orders/s (closed loop)")
                rate = offered * capacity
                tag = f"{profile}-{int(time.time())}"
                customers = population(bodies, rate, arrival_s, tag)
                print(
                    f"[{profile}] {len(customers)} customers arriving at {rate:.0f}/s"
                    f" for {arrival_s:.0f} s, patience {patience_s:.0f} s"
                )
                elapsed, opened = asyncio.run(
                    _run_population(target, customers, patience_s, storm_wait_s)
                )
                figures = audit(url, tag, customers, patience_s)
                figures["run_s"] = elapsed
                figures["connections_opened"] = opened
                figures["arrival_rate_per_s"] = rate
                results["profiles"][profile] = figures
                print_profile(profile, figures)
        results["capacity_per_s"] = capacity
    finally:
        embedded.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("retry-storm.json" if storm_wait_s is not None else "retrying.json")
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"\nresults written to {path}")


def print_profile(profile: str, f: dict[str, Any]) -> None:
    def secs(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} s"

    rho = f["rank_correlation"]
    met = "met" if f["placed_share"] >= GOALS["placed_share"] else "MISSED"
    print(
        f"  placed within {f['patience_s']:.0f} s: {f['placed_within_patience']}/{f['customers']}"
        f" ({f['placed_share']:.1%}, goal >= 99%: {met}); gave up {f['gave_up']}"
        f" ({f['abandoned_in_flight']} with an attempt in flight), refused {f['refused_4xx']}\n"
        f"  wait p50 {secs(f['wait_p50_s'])}, p99 {secs(f['wait_p99_s'])},"
        f" max {secs(f['wait_max_s'])}; attempts {f['attempts_mean']:.1f} mean,"
        f" {f['attempts_max']} max; arrival vs placement rank correlation"
        f" {'-' if rho is None else f'{rho:.3f}'}\n"
        f"  5xx answers {f['answers_5xx']}, refusals {f['refused_by_status']}\n"
        f"  orders lost {f['lost']}, duplicated {f['duplicated']},"
        f" placed but never acknowledged {f['unacknowledged']}; run {f['run_s']:.0f} s"
    )


if __name__ == "__main__":
    openload.install_uvloop()
    main()
