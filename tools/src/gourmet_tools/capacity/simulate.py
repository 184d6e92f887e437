"""``gourmet capacity simulate``: the November curve against three ways of running, as a
discrete-event simulation (SimPy), to see where each one spends the database's connections.

The model, kept small on purpose:

* **Customers** arrive (Poisson) along the November shape (``gourmet_tools.loadtest.shapes``), each
  wanting one order. An attempt that fails or times out is retried after a second, or after
  Retry-After when the server says so, until the customer's patience runs out.
* **The database** has ``cores``; a query that starts with ``n`` queries running takes
  ``query_s * max(1, n / cores)``, and beyond twice the cores each extra query also costs
  context switches and lock waits (``thrash``), so too many connections lower throughput.
  It accepts ``max_connections`` minus the reserved ones; a connection past that is refused.
* **Policies.** ``old``: three replicas of a pool of 20, requests wait for a connection without
  bound and are abandoned by the client at 30 s (the server still runs them: wasted work).
  ``naive``: the same pods, autoscaled on latency to 12, each with its own pool of 20: the
  pods past the budget cannot connect and answer errors. ``gourmet``: autoscaled within the
  capacity plan (pools sized by it), admission control keeps the database's in-flight near its
  best, the excess is answered 503 with Retry-After at once and the customer comes back.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from gourmet.db.plan import Deployment, plan
from gourmet_tools.checkout_page import NO_ANSWER, Answer, CheckoutPage
from gourmet_tools.loadtest.shapes import Shape, november
from gourmet_tools.percentiles import percentile

POLICIES = ("old", "naive", "gourmet")
CLIENT_TIMEOUT_S = 30.0
SCALE_EVERY_S = 30.0  # the autoscaler's period
POD_START_S = 20.0
P99_WINDOW_S = 10.0


@dataclass(frozen=True)
class Model:
    max_connections: int = 100
    superuser_reserved: int = 3
    reserved: int = 10
    cores: int = 4
    query_s: float = 0.02  # a checkout's database time on an idle database
    thrash: float = 0.03  # extra cost per query beyond twice the cores
    workers_per_pod: int = 2
    naive_pool: int = 20
    old_replicas: int = 3
    min_replicas: int = 3
    max_replicas: int = 12
    base_rate: float = 40.0  # customers per second before the spike
    scale: float = 1.0  # time compression of the curve
    patience_s: float = 120.0
    seed: int = 1

    @property
    def available(self) -> int:
        return self.max_connections - self.superuser_reserved - self.reserved


@dataclass
class Second:
    t: int
    replicas: int = 0
    connections: int = 0  # asked of the database by the pods' pools
    active: int = 0  # running a query
    placed: int = 0
    refused: int = 0  # 503 (gourmet) or errors (connection refused, timed out)
    latencies: list[float] = field(default_factory=list)
    p99_s: float = 0.0


@dataclass
class Outcome:
    policy: str
    customers: int
    served: int
    gave_up: int
    peak_connections: int
    connection_ceiling: int
    exhausted_s: int  # seconds with every connection the database accepts in use
    p99_s: float
    seconds: list[Second]

    @property
    def served_share(self) -> float:
        return self.served / self.customers if self.customers else 0.0


class Database:
    def __init__(self, env: simpy.Environment, model: Model) -> None:
        self.env = env
        self.model = model
        self.active = 0

    def query(self) -> Generator[simpy.Event, Any, None]:
        m = self.model
        self.active += 1
        n = self.active
        cost = m.query_s * max(1.0, n / m.cores) * (1 + m.thrash * max(0, n - 2 * m.cores))
        try:
            yield self.env.timeout(cost)
        finally:
            self.active -= 1


class Cluster:
    """The pods of one policy: how many, their connections, and how a checkout goes."""

    def __init__(
        self, env: simpy.Environment, model: Model, policy: str, rng: random.Random
    ) -> None:
        self.env = env
        self.rng = rng
        self.model = model
        self.policy = policy
        self.db = Database(env, model)
        self.replicas = model.old_replicas if policy == "old" else model.min_replicas
        if policy == "gourmet":
            planned = plan(
                Deployment(
                    max_connections=model.max_connections,
                    superuser_reserved=model.superuser_reserved,
                    reserved=model.reserved,
                    workers_per_pod=model.workers_per_pod,
                    max_replicas=model.max_replicas,
                    pool_size=None,
                    pgbouncer_replicas=0,
                    pgbouncer_pool_size=None,
                    checkouts_per_worker=400.0,
                )
            )
            self.pool_per_pod = planned.pool_size * model.workers_per_pod
            # Each pod's adaptive limiter shrinks as latency grows; together they settle near
            # what the database runs best, about twice its cores (make bench measures it).
            self.in_flight_limit = 2 * model.cores
        else:
            self.pool_per_pod = model.naive_pool
            self.in_flight_limit = 0
        self.pool = simpy.Resource(env, capacity=self._usable_connections())
        self.in_flight = 0
        self.recent: list[tuple[float, float]] = []  # (finished at, latency)

    @property
    def connections_wanted(self) -> int:
        return self.replicas * self.pool_per_pod

    def _usable_connections(self) -> int:
        return max(1, min(self.connections_wanted, self.model.available))

    def rescale(self, replicas: int) -> None:
        self.replicas = replicas
        # Pools open their connections as their pods start; the database refuses the rest.
        self.pool._capacity = self._usable_connections()
        self.pool._trigger_put(None)

    def refused_by_database(self) -> bool:
        """A request landing on a pod whose pool could not connect (naive scale-out)."""
        wanted = self.connections_wanted
        if wanted <= self.model.available:
            return False
        return self.rng.random() < (wanted - self.model.available) / wanted

    def checkout(self) -> Generator[simpy.Event, Any, tuple[str, float]]:
        """One attempt: ("placed" | "busy" | "error", seconds until the customer knows)."""
        start = self.env.now
        if self.policy == "naive" and self.refused_by_database():
            return "error", 0.05
        if self.policy == "gourmet":
            if self.in_flight >= self.in_flight_limit:
                return "busy", 0.002
            self.in_flight += 1
        try:
            request = self.pool.request()
            timeout = self.env.timeout(CLIENT_TIMEOUT_S)
            got = yield request | timeout
            if request not in got:
                # The client left; the request still waits, and runs when it gets a connection.
                self.env.process(self._abandoned(request))
                self.recent.append((self.env.now, CLIENT_TIMEOUT_S))  # what the client saw
                return "error", CLIENT_TIMEOUT_S
            try:
                yield from self.db.query()
            finally:
                self.pool.release(request)
            latency = self.env.now - start
            self.recent.append((self.env.now, latency))
            if latency > CLIENT_TIMEOUT_S:
                return "error", CLIENT_TIMEOUT_S
            return "placed", latency
        finally:
            if self.policy == "gourmet":
                self.in_flight -= 1

    def _abandoned(self, request: Any) -> Generator[simpy.Event, Any, None]:
        yield request
        try:
            yield from self.db.query()
        finally:
            self.pool.release(request)

    def p99(self) -> float:
        cutoff = self.env.now - P99_WINDOW_S
        self.recent = [(t, x) for t, x in self.recent if t >= cutoff]
        if not self.recent:
            return 0.0
        return percentile([x for _, x in self.recent], 99)


def simulate(policy: str, model: Model) -> Outcome:
    rng = random.Random(model.seed)
    env = simpy.Environment()
    cluster = Cluster(env, model, policy, rng)
    shape = november(model.base_rate, model.scale)
    horizon = int(shape.duration_s + model.patience_s)
    seconds = [Second(t) for t in range(horizon)]
    tally = {"customers": 0, "served": 0, "gave_up": 0}

    def second(now: float) -> Second:
        return seconds[min(int(now), horizon - 1)]

    def customer() -> Generator[simpy.Event, Any, None]:
        tally["customers"] += 1
        arrived = env.now
        page = CheckoutPage(arrived, key=f"customer-{tally['customers']}")
        while env.now - arrived < model.patience_s:
            result, _took = yield from cluster.checkout()
            if result == "placed":
                tally["served"] += 1
                second(env.now).placed += 1
                second(env.now).latencies.append(env.now - arrived)
                return
            second(env.now).refused += 1
            # A 503 "busy" with Retry-After: 1, or no answer in time: as the page reacts.
            answer = Answer(503, retry_after="1") if result == "busy" else Answer(NO_ANSWER)
            step = page.after(answer, env.now)
            if step.action != "retry":
                break
            yield env.timeout(step.wait_s)
        tally["gave_up"] += 1

    def arrivals() -> Generator[simpy.Event, Any, None]:
        for phase in shape.phases:
            end = env.now + phase.duration_s
            while True:
                gap = rng.expovariate(phase.rate) if phase.rate > 0 else phase.duration_s
                if env.now + gap >= end:
                    yield env.timeout(end - env.now)
                    break
                yield env.timeout(gap)
                env.process(customer())

    def autoscaler() -> Generator[simpy.Event, Any, None]:
        if policy == "old":
            return
        while True:
            yield env.timeout(SCALE_EVERY_S)
            full = cluster.in_flight >= cluster.in_flight_limit > 0
            busy = cluster.p99() > 1.0 or full
            if busy and cluster.replicas < model.max_replicas:
                target = min(model.max_replicas, cluster.replicas * 2)
                yield env.timeout(POD_START_S)
                cluster.rescale(target)
            elif not busy and cluster.replicas > model.min_replicas and cluster.p99() < 0.2:
                cluster.rescale(cluster.replicas - 1)

    def sampler() -> Generator[simpy.Event, Any, None]:
        while env.now < horizon:
            sample = second(env.now)
            sample.replicas = cluster.replicas
            sample.connections = cluster.connections_wanted
            sample.active = cluster.pool.count
            sample.p99_s = cluster.p99()
            yield env.timeout(1.0)

    env.process(arrivals())
    env.process(autoscaler())
    env.process(sampler())
    env.run(until=horizon)
    all_latencies = sorted(x for s in seconds for x in s.latencies)
    p99 = all_latencies[int(0.99 * (len(all_latencies) - 1))] if all_latencies else 0.0
    return Outcome(
        policy=policy,
        customers=tally["customers"],
        served=tally["served"],
        gave_up=tally["customers"] - tally["served"],
        peak_connections=max(s.connections for s in seconds),
        connection_ceiling=model.available,
        exhausted_s=sum(1 for s in seconds if s.active >= model.available),
        p99_s=p99,
        seconds=seconds,
    )


def run_all(model: Model, progress: Callable[[str], None] | None = None) -> list[Outcome]:
    outcomes = []
    for policy in POLICIES:
        if progress:
            progress(policy)
        outcomes.append(simulate(policy, model))
    return outcomes


def curve(model: Model) -> Shape:
    return november(model.base_rate, model.scale)
