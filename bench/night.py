"""A night as it really comes: a realistic stampede against the old platform and Gourmet.

People browse the menu (40%), look at slots (10%), follow their orders (25%) and check out
(25%, each with an Idempotency-Key of its own and no retry), as clients that send no deadline
header and give up after ``NIGHT_PATIENCE_S`` (10 s): the connection is closed then, as a
browser's fetch or an API client's timeout does. Arrivals: 40/s, then 1,500/s for 30 s, then
80/s for 25 s (``NIGHT_PHASES`` to change it). One worker; the server and PostgreSQL share one
core and the driver has the other (``OVERLOAD_CPU_SPLIT=sut``), its own lag reported.

What counts is each customer's outcome, read back from the database: orders placed, orders
placed for a client that had already given up (cooked for nobody), orders acknowledged but not
stored (lost), and how fast reads and refusals were answered. ``python -m bench.night`` (part
of ``make bench``) writes ``bench/results/night.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg
from gourmet_tools.loadtest import loadstats, openload, traffic
from gourmet_tools.loadtest.loadrun import Phase, Run
from gourmet_tools.loadtest.traffic import RequestKind
from gourmet_tools.percentiles import percentile

from bench.__main__ import DATABASE, RESULTS, ROOT, prepare_database
from bench.cpus import split_cluster, wait_for_quiet
from bench.overload import checkout_bodies
from bench.target import Plan, Target, gourmet

PGDATA = ROOT / "var" / "night-pgdata"
PROFILES = ("incident", "hardened")  # the old platform first: the same night, the same machine
DEFAULT_PHASES = "before:40:10,spike:1500:30,after:80:25"
KEY_PREFIX = "night-"
SETTLE_QUIET_S = 3.0  # orders still being committed after the run (the old platform's queue)
SETTLE_LIMIT_S = 60.0
GOALS = {"cooked_for_nobody": 0, "lost": 0, "reads_p99_ms": 100.0, "refusals_p99_ms": 10.0}


def phases_from(spec: str) -> list[Phase]:
    """``name:rate:seconds,...`` as phases."""
    out = []
    for part in spec.split(","):
        name, rate, seconds = part.split(":")
        out.append(Phase(name, float(rate), float(seconds)))
    return out


def night_mix(base: str, tag: str) -> list[RequestKind]:
    """The four kinds of request; each checkout carries the key ``night-<tag>-<row>``."""
    host = base.removeprefix("http://")
    with httpx.Client(base_url=base, timeout=10) as client:
        bodies = checkout_bodies(client, slots=40)
        tokens = []
        for body in bodies[:32]:  # orders to follow, placed before the night
            answer = client.post("/api/orders", json=body)
            answer.raise_for_status()
            tokens.append(answer.json()["token"])
    status = tuple(traffic.http_get(host, f"/api/orders/{token}") for token in tokens)
    checkouts = [traffic.http_post_json(host, "/api/orders", body) for body in bodies]

    def checkout(row: int) -> bytes:
        body = bodies[row % len(bodies)]
        key = f"Idempotency-Key: {KEY_PREFIX}{tag}-{row}\r\n"
        return traffic.http_post_json(host, "/api/orders", body, headers=key)

    assert checkouts  # the bodies encode (and the slots exist) before the night starts
    return [
        RequestKind("menu", 0.40, (traffic.http_get(host, "/api/menu"),)),
        RequestKind("slots", 0.10, (traffic.http_get(host, "/api/slots?fulfilment=pickup"),)),
        RequestKind("status", 0.25, status),
        RequestKind("checkout", 0.25, make=checkout),
    ]


def placed_rows(url: str, tag: str) -> set[int]:
    """The rows whose checkout became an order, once no order has been stored for a while (a
    server may still commit the orders of clients long gone)."""
    prefix = f"{KEY_PREFIX}{tag}-"
    started, last, last_change = time.monotonic(), -1, time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            keys = [
                row[0]
                for row in conn.execute(
                    "SELECT idempotency_key FROM checkout_request"
                    " WHERE idempotency_key LIKE %s AND order_id IS NOT NULL",
                    (prefix + "%",),
                )
            ]
            now = time.monotonic()
            if len(keys) != last:
                last, last_change = len(keys), now
            elif now - last_change >= SETTLE_QUIET_S or now - started > SETTLE_LIMIT_S:
                return {int(key.removeprefix(prefix)) for key in keys}
            time.sleep(0.5)  # polling the database until the server's queue has drained


def outcomes(run: Run, placed: set[int], patience_s: float) -> dict[str, Any]:
    """Every customer figure of one night, from the driver's record and the database's."""
    checkout = run.kinds.index("checkout")
    rows = [i for i in range(len(run.status)) if run.kind[i] == checkout]
    acknowledged = {i for i in rows if 200 <= run.status[i] < 300}
    answered = [i for i in range(len(run.status)) if run.status[i] > 0]
    reads = [
        run.latency[i] * 1000
        for i in answered
        if run.kind[i] != checkout and 200 <= run.status[i] < 300
    ]
    refusals = [run.latency[i] * 1000 for i in answered if run.status[i] in (429, 503)]
    windows = {phase.name: run.phase_window(phase.name) for phase in run.phases}
    answered_share = {
        name: sum(1 for i in run.rows(*window) if run.status[i] > 0)
        / max(len(run.rows(*window)), 1)
        for name, window in windows.items()
    }
    spike_start, spike_end = windows.get("spike", (0.0, run.phases[-1].duration_s))
    return {
        "requests": len(run.status),
        "answered_share": answered_share,
        "checkouts": len(rows),
        "orders_placed": len(placed),
        "orders_acknowledged": len(acknowledged),
        # The harm this product exists to prevent: food for a customer who had already gone.
        "cooked_for_nobody": len(placed - acknowledged),
        "lost": len(acknowledged - placed),
        "orders_per_s_in_spike": sum(
            1 for i in placed if spike_start <= run.intended[i] < spike_end
        )
        / max(spike_end - spike_start, 1e-9),
        "reads_p99_ms": percentile(reads, 99),
        "refusals_p99_ms": percentile(refusals, 99),
        "answers_p99_ms": percentile([run.latency[i] * 1000 for i in answered], 99),
        "gave_up": sum(1 for i in range(len(run.status)) if run.status[i] < 0),
        "patience_s": patience_s,
        "driver": loadstats.summarize(run, 0.0, sum(p.duration_s for p in run.phases))[
            "send_lag_p99_ms"
        ],
    }


def one_night(
    target: Target, url: str, profile: str, phases: list[Phase], plan: Plan
) -> dict[str, Any]:
    tag = f"{profile}-{int(time.time())}"
    mix = night_mix(target.base, tag)
    run = asyncio.run(
        openload.open_load(
            target.base, mix, phases, max_connections=plan.max_connections, timeout_s=plan.timeout_s
        )
    )
    figures = outcomes(run, placed_rows(url, tag), plan.timeout_s)
    figures["server_log"] = str(target.log)
    return figures


def print_report(results: dict[str, Any]) -> None:
    names = list(results["profiles"])
    print(
        f"\nA night as it really comes ({results['phases']}; clients give up after"
        f" {results['patience_s']:.0f} s, no deadline header)"
    )
    rows = [
        ("orders placed", "orders_placed", "{:.0f}"),
        ("placed for a client already gone", "cooked_for_nobody", "{:.0f}"),
        ("acknowledged but not stored", "lost", "{:.0f}"),
        ("orders/s placed in the spike", "orders_per_s_in_spike", "{:.0f}"),
        ("reads (menu, slots, status) p99 ms", "reads_p99_ms", "{:.0f}"),
        ("refusals p99 ms", "refusals_p99_ms", "{:.0f}"),
        ("every answer p99 ms", "answers_p99_ms", "{:.0f}"),
        ("requests given up by the client", "gave_up", "{:.0f}"),
        ("driver's own send lag p99 ms", "driver", "{:.1f}"),
    ]
    print(f"{'':38}" + "".join(f"{name:>14}" for name in names))
    for label, key, fmt in rows:
        cells = "".join(f"{fmt.format(results['profiles'][n][key]):>14}" for n in names)
        print(f"{label:38}{cells}")
    for name in names:
        shares = results["profiles"][name]["answered_share"]
        print(f"answered, {name}: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))


def main() -> None:
    plan = replace(
        Plan.from_env(),
        pool_max_size=int(os.environ.get("NIGHT_POOL_MAX_SIZE", "0")),  # 0: each profile's own
        timeout_s=float(os.environ.get("NIGHT_PATIENCE_S", "10")),
        cpu_split=os.environ.get("OVERLOAD_CPU_SPLIT", "sut"),
    )
    phases = phases_from(os.environ.get("NIGHT_PHASES", DEFAULT_PHASES))
    profiles = tuple(os.environ.get("NIGHT_PROFILES", ",".join(PROFILES)).split(","))
    split, embedded = split_cluster(plan.cpu_split, PGDATA)
    postmaster = embedded.postmaster_pid
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "phases": os.environ.get("NIGHT_PHASES", DEFAULT_PHASES),
        "patience_s": plan.timeout_s,
        "cpu_split": split.mode if split else None,
        "idle_machine_cpu_pct": wait_for_quiet(plan.quiet_wait_s),
        "goals": GOALS,
        "profiles": {},
    }
    try:
        for profile in profiles:
            url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
            print(f"[{profile}] one worker, the night of {results['phases']}")
            with gourmet(url, profile, plan, postmaster, split) as target:
                results["profiles"][profile] = one_night(target, url, profile, phases, plan)
    finally:
        embedded.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "night.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_report(results)
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    openload.install_uvloop()
    main()
