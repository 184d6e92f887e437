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
import os
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import httpx
from gourmet_tools.loadtest import openload, traffic
from gourmet_tools.loadtest.customers import audit, population, run_population
from gourmet_tools.loadtest.loadrun import Phase
from gourmet_tools.loadtest.traffic import RequestKind

from bench.__main__ import DATABASE, RESULTS, ROOT, prepare_database
from bench.cpus import split_cluster, wait_for_quiet
from bench.overload import checkout_bodies, measure_capacity
from bench.target import Plan, gourmet

PGDATA = ROOT / "var" / "retrying-pgdata"
GOALS = {"placed_share": 0.99, "lost": 0, "duplicated": 0, "unacknowledged": 0}


def main() -> None:
    plan = Plan.from_env()
    offered = float(os.environ.get("RETRY_OFFERED", "2.0"))
    arrival_s = float(os.environ.get("RETRY_ARRIVAL_S", "30"))
    patience_s = float(os.environ.get("RETRY_PATIENCE_S", "120"))
    profiles = os.environ.get("RETRY_PROFILES", "hardened,incident").split(",")
    capacity = float(os.environ.get("RETRY_CAPACITY", "0"))
    storm = os.environ.get("RETRY_STORM_WAIT_S")
    storm_wait_s = float(storm) if storm else None
    split, embedded = split_cluster(plan.cpu_split, PGDATA)
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
                        traffic.http_post_json(host, "/api/orders", body) for body in bodies
                    )
                    mix = [RequestKind("checkout", 1.0, payloads)]
                    measured = measure_capacity(target, mix, plan)
                    capacity = measured["goodput_per_s"]
                    results["capacity"] = measured
                    print(f"checkout capacity: {capacity:.0f} orders/s (closed loop)")
                rate = offered * capacity
                tag = f"{profile}-{int(time.time())}"
                customers = population(bodies, [Phase("arrivals", rate, arrival_s)], tag)
                print(
                    f"[{profile}] {len(customers)} customers arriving at {rate:.0f}/s"
                    f" for {arrival_s:.0f} s, patience {patience_s:.0f} s"
                )
                elapsed, opened = asyncio.run(
                    run_population(target.base, customers, patience_s, storm_wait_s)
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
