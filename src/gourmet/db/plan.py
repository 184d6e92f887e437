"""A deployment's connection plan: from the database's limits and the deployment's shape, the pool
sizes that keep every replica within ``max_connections`` at full scale-out, or why none can.

November's lesson: servers were added while the database's connections were the bottleneck, and
each new server brought its own pool. The plan counts what every process holds at the largest
replica count the autoscaler may reach: its listener (LISTEN needs a session of its own, so it
goes straight to PostgreSQL, never through PgBouncer) and its pool, directly or through PgBouncer
in transaction mode, whose server pools are then what PostgreSQL sees. The same arithmetic sizes
the pool at startup (:class:`~gourmet.db.budget.ConnectionBudget`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gourmet.db.budget import (
    CONNECTIONS_OUTSIDE_POOL,
    DEFAULT_POOL_CEILING,
    ConnectionBudget,
    ConnectionBudgetError,
)

# Client connections one PgBouncer accepts by default here; each costs it a few KiB, not a backend.
PGBOUNCER_CLIENT_CEILING = 10_000


@dataclass(frozen=True)
class Deployment:
    max_connections: int
    superuser_reserved: int  # PostgreSQL's superuser_reserved_connections
    reserved: int  # operators, migrations, monitoring (GOURMET_DATABASE__RESERVED_CONNECTIONS)
    workers_per_pod: int
    max_replicas: int
    pool_size: int | None = None  # per worker; None: derived
    pgbouncer_replicas: int = 0  # 0: no PgBouncer, pools connect straight to PostgreSQL
    pgbouncer_pool_size: int | None = None  # server connections per PgBouncer; None: derived
    checkouts_per_worker: float = 400.0  # measured by make bench, with headroom

    @property
    def processes(self) -> int:
        return self.workers_per_pod * self.max_replicas


@dataclass(frozen=True)
class Plan:
    deployment: Deployment
    pool_size: int  # per worker (to PgBouncer when there is one)
    pgbouncer_pool_size: int  # per PgBouncer (0 without one)
    rows: list[tuple[str, int]] = field(default_factory=list)  # the budget, line by line
    problem: str | None = None  # why this deployment cannot fit, if it cannot

    @property
    def fits(self) -> bool:
        return self.problem is None

    @property
    def checkout_capacity(self) -> float:
        """Checkouts per second the deployment sustains at full scale-out (the growth alert's
        capacity)."""
        return checkout_capacity(self.deployment.processes, self.deployment.checkouts_per_worker)


def checkout_capacity(processes: int, checkouts_per_worker: float) -> float:
    """What every process of a deployment serves together, if the database keeps up (the
    budget keeps it within its connections). Each process exports it (gourmet_checkout_
    capacity_planned) for the alert that sees traffic outgrowing the plan itself."""
    return processes * checkouts_per_worker


def plan(d: Deployment) -> Plan:
    if min(d.max_connections, d.workers_per_pod, d.max_replicas) < 1:
        raise ValueError("max_connections, workers per pod and replicas must be at least 1")
    available = d.max_connections - d.superuser_reserved - d.reserved
    listeners = d.processes * CONNECTIONS_OUTSIDE_POOL
    rows = [
        ("max_connections", d.max_connections),
        ("superuser_reserved_connections", -d.superuser_reserved),
        ("reserved for operators, migrations, monitoring", -d.reserved),
        ("available to Gourmet", available),
        (f"listeners: {d.processes} workers x {CONNECTIONS_OUTSIDE_POOL}", -listeners),
    ]
    if d.pgbouncer_replicas == 0:
        return _direct(d, rows)
    return _pooled(d, rows, available - listeners)


def _direct(d: Deployment, rows: list[tuple[str, int]]) -> Plan:
    budget = ConnectionBudget(
        d.max_connections, d.superuser_reserved + d.reserved, processes=d.processes
    )
    try:
        size = budget.pool_size(d.pool_size)
    except ConnectionBudgetError as exc:
        size = d.pool_size or 0
        pooled = d.processes * size
        return Plan(d, size, 0, [*rows, (f"pools: {d.processes} x {size}", -pooled)], str(exc))
    pooled = d.processes * size
    spare = budget.available - d.processes * CONNECTIONS_OUTSIDE_POOL - pooled
    rows += [(f"pools: {d.processes} workers x {size}", -pooled), ("spare", spare)]
    return Plan(d, size, 0, rows)


def _pooled(d: Deployment, rows: list[tuple[str, int]], for_pools: int) -> Plan:
    per_bouncer = d.pgbouncer_pool_size
    if per_bouncer is None:
        per_bouncer = max(for_pools // d.pgbouncer_replicas, 0)
    server = d.pgbouncer_replicas * per_bouncer
    rows.append((f"PgBouncer servers: {d.pgbouncer_replicas} x {per_bouncer}", -server))
    rows.append(("spare", for_pools - server))
    # Each worker's pool talks to PgBouncer: clients are cheap there, but the sum must stay
    # under what the bouncers accept.
    size = d.pool_size if d.pool_size is not None else DEFAULT_POOL_CEILING
    clients = d.processes * size
    ceiling = d.pgbouncer_replicas * PGBOUNCER_CLIENT_CEILING
    problem = None
    if per_bouncer < 1 or server > for_pools:
        problem = (
            f"{d.pgbouncer_replicas} PgBouncer(s) x {per_bouncer} server connections = {server},"
            f" but after {d.processes} listeners only {for_pools} are left: lower the PgBouncer"
            " pool size, run fewer workers or replicas, or raise max_connections."
        )
    elif clients > ceiling:
        problem = (
            f"{d.processes} workers x {size} = {clients} client connections, more than"
            f" {d.pgbouncer_replicas} PgBouncer(s) accept ({ceiling}): lower the pool size."
        )
    return Plan(d, size, per_bouncer, rows, problem)
