"""``python -m bench.overload``: the November stampede offered to the hardened and the old platform.

1. Capacity: closed loops of 1 to 16 connections find the most goodput (2xx/s) the hardened
   profile delivers for the mix (70% order status reads, 30% checkouts spread over 40 slots) while
   refusing at most 5% of it; the driver's own top send rate is then measured on ``/healthz``.
2. For each profile (a fresh server process each, the same database), open-model load
   (:mod:`gourmet_tools.loadtest.openload`: arrivals independent of responses, latency from the
   intended send time)
   at 0.5x, 1x, 2x, 5x and 10x capacity, each spike followed at once by a recovery probe at 0.5x.
   Recovery is the time until the p99 of every later 1-second bucket is within 2x the p99 the
   probe's load had before any spike, a failed request counting as infinitely slow (a normal
   second has >= 99% prompt successes). The probe's own load is the reference, not the unloaded
   one: with a pool of 1, 0.5x has queueing of its own, and its seconds run at p99 1.5-2x those
   of 0.1x without any spike before them.

Everything runs on a dedicated embedded PostgreSQL under var/overload-pgdata, stopped at the end.
Two cores are shared by the app server (one granian worker), PostgreSQL and this driver, so:
- the app server's Python thread, which runs all of Gourmet's code, gets a core of its own (it
  cannot use more than one); granian's Rust I/O thread, PostgreSQL and the driver share the other
  (OVERLOAD_CPU_SPLIT=server|process|sut|off, see cpu_split);
- capacity is set by the database pool (OVERLOAD_POOL_MAX_SIZE, default 1), as it was in November,
  not by the server's CPU: a refused request must have CPU left to be refused with, and 10x that
  capacity must stay within what the driver measurably sends. The report prints both figures.
- the driver may open up to 4096 connections (OVERLOAD_MAX_CONNECTIONS): a cap below what a 5 s
  timeout lets pile up (5 s x capacity) would itself bound the old platform's queue, hide its
  collapse, and turn it into client-side misses.

Knobs (environment): OVERLOAD_QUICK=1 (about 2.5 minutes instead of about 3.5), OVERLOAD_SPIKE_S,
OVERLOAD_PROBE_S, OVERLOAD_UNLOADED_S, OVERLOAD_MULTIPLIERS, OVERLOAD_PROFILES,
OVERLOAD_POOL_MAX_SIZE, OVERLOAD_MAX_CONNECTIONS, OVERLOAD_TIMEOUT_S, OVERLOAD_CPU_SPLIT,
OVERLOAD_CAPACITY (skip the measurement and use this goodput).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import httpx
from gourmet_tools.loadtest import loadstats, openload, traffic
from gourmet_tools.loadtest.loadrun import Phase, Run
from gourmet_tools.loadtest.loadstats import CpuMeter
from gourmet_tools.loadtest.traffic import RequestKind

from bench.__main__ import DATABASE, RESULTS, ROOT, prepare_database
from bench.cpus import split_cluster, wait_for_quiet
from bench.overload_report import GOALS, check_goals, format_row, header, plot, print_report
from bench.target import Plan, Target, env_float, gourmet

PGDATA = ROOT / "var" / "overload-pgdata"
CAPACITY_STEPS = (1, 2, 3, 4, 6, 8, 12, 16)
CAPACITY_MAX_REFUSED = 0.05
CALIBRATION_S = 3.0


# --- the server under test -----------------------------------------------------------------------


def checkout_bodies(client: httpx.Client, slots: int = 40) -> list[dict[str, Any]]:
    """Checkout bodies of two lines each, spread over ``slots`` slots (skipping the two soonest,
    which a long run could see pass)."""
    lines = [{"item_id": 1, "quantity": 1}, {"item_id": 8, "quantity": 2, "option_ids": [5, 8]}]
    customer = {"name": "Bench", "phone": "555-0100"}
    starts = [slot["start"] for slot in client.get("/api/slots").json()["slots"]]
    return [
        {"fulfilment": "pickup", "slot": start, "customer": customer, "lines": lines}
        for start in starts[2 : 2 + slots]
    ]


def build_mix(base: str, orders: int = 64, slots: int = 40) -> list[RequestKind]:
    """70% ``GET /api/orders/{token}`` over ``orders`` placed orders, 30% checkouts spread over
    ``slots`` slots."""
    host = base.removeprefix("http://")
    with httpx.Client(base_url=base, timeout=10) as client:
        checkouts = checkout_bodies(client, slots)
        tokens = []
        for i in range(orders):
            response = client.post("/api/orders", json=checkouts[i % len(checkouts)])
            response.raise_for_status()
            tokens.append(response.json()["token"])
    status = tuple(traffic.http_get(host, f"/api/orders/{token}") for token in tokens)
    checkout = tuple(traffic.http_post_json(host, "/api/orders", body) for body in checkouts)
    return [RequestKind("status", 0.7, status), RequestKind("checkout", 0.3, checkout)]


# --- the measurements ----------------------------------------------------------------------------


def measure_capacity(target: Target, mix: list[RequestKind], plan: Plan) -> dict[str, Any]:
    """The best goodput of closed loops of 1 to 16 clients that were refused at most 5%.

    A refused client sends its next request at once. More refusals than that shift the mix
    served to cheap status reads (checkouts are refused first) and measure another workload:
    16 clients got 1,336/s, of which 6% checkouts. Stopping at the first refusal instead left
    the measure to where the adaptive limit happened to be at the time."""
    asyncio.run(openload.closed_load(target.base, mix, concurrency=2, duration_s=1.0))
    steps = []
    for concurrency in CAPACITY_STEPS:
        meter = CpuMeter(target.trees)
        run = asyncio.run(
            openload.closed_load(
                target.base, mix, concurrency=concurrency, duration_s=plan.capacity_step_s
            )
        )
        figures = loadstats.summarize(run, 0.0, plan.capacity_step_s)
        steps.append(
            {
                "concurrency": concurrency,
                "goodput_per_s": figures["goodput_per_s"],
                "goodput_by_kind_per_s": figures["goodput_by_kind_per_s"],
                "p99_ms": figures["admitted_p99_ms"],
                "refused_share": 1 - figures["ok"] / max(figures["requests"], 1),
                **meter.read(),
            }
        )
    clean = [step for step in steps if step["refused_share"] <= CAPACITY_MAX_REFUSED]
    best = max(clean or steps[:1], key=lambda step: step["goodput_per_s"])
    return {"goodput_per_s": best["goodput_per_s"], "best": best, "steps": steps}


def calibrate_driver(target: Target, rate: float, plan: Plan) -> dict[str, Any]:
    """What this driver sends on this machine: open load on ``/healthz`` (no database)."""
    mix = [RequestKind("healthz", 1.0, (traffic.http_get(target.base[7:], "/healthz"),))]
    meter = CpuMeter(target.trees)
    run = asyncio.run(
        openload.open_load(
            target.base,
            mix,
            [Phase("calibrate", rate, CALIBRATION_S)],
            max_connections=plan.max_connections,
        )
    )
    figures = loadstats.summarize(run, 0.0, CALIBRATION_S)
    return {
        "target_per_s": rate,
        "achieved_per_s": figures["achieved_per_s"],
        "ok_per_s": figures["goodput_per_s"],
        "send_lag_p99_ms": figures["send_lag_p99_ms"],
        "client_misses": figures["client_misses"],
        **meter.read(),
    }


def recovery_time(buckets: list[float], threshold_ms: float, width_s: float = 1.0) -> float | None:
    """Seconds from the end of the spike until every later bucket is within ``threshold_ms``:
    the end of the last bucket above it (0 if none); None if the probe ended still above."""
    bad = [i for i, p99 in enumerate(buckets) if not p99 <= threshold_ms]
    if not bad:
        return 0.0
    if bad[-1] == len(buckets) - 1:
        return None
    return (bad[-1] + 1) * width_s


def spike(
    target: Target, mix: list[RequestKind], rate: float, probe_rate: float, plan: Plan
) -> tuple[Run, dict[str, float]]:
    """One spike at ``rate`` followed at once by the probe at ``probe_rate`` (same connections);
    returns the run and the CPU used during the spike."""
    phases = [Phase("spike", rate, plan.spike_s), Phase("probe", probe_rate, plan.probe_s)]
    cpu: dict[str, float] = {}

    async def run_it() -> Run:
        async def meter_spike() -> None:
            meter = CpuMeter(target.trees)
            await asyncio.sleep(plan.spike_s)
            cpu.update(meter.read())

        task = asyncio.create_task(meter_spike())
        run = await openload.open_load(
            target.base,
            mix,
            phases,
            max_connections=plan.max_connections,
            timeout_s=plan.timeout_s,
        )
        await task
        return run

    return asyncio.run(run_it()), cpu


def settle(
    target: Target, mix: list[RequestKind], rate: float, threshold_ms: float, plan: Plan
) -> float:
    """Light load in 1-second steps until a second is normal again; seconds it took (capped), so
    that no level starts on the leftovers of the one before."""
    started = time.monotonic()
    while time.monotonic() - started < plan.settle_max_s:
        run = asyncio.run(
            openload.open_load(
                target.base, mix, [Phase("settle", rate, 1.0)], timeout_s=plan.timeout_s
            )
        )
        if loadstats.bucket_p99(run, 0.0, 1.0)[0] <= threshold_ms:
            break
    return time.monotonic() - started


def sweep_profile(target: Target, capacity: float, plan: Plan) -> dict[str, Any]:
    """Unloaded latency, the probe's load before any spike, then every spike with its probe."""
    mix = build_mix(target.base)
    asyncio.run(openload.closed_load(target.base, mix, concurrency=2, duration_s=1.0))
    unloaded_rate = max(plan.unloaded_share * capacity, 20.0)
    meter = CpuMeter(target.trees)
    run = asyncio.run(
        openload.open_load(target.base, mix, [Phase("unloaded", unloaded_rate, plan.unloaded_s)])
    )
    out: dict[str, Any] = {"unloaded": loadstats.summarize(run, 0.0, plan.unloaded_s), "levels": []}
    out["unloaded"]["cpu"] = meter.read()
    unloaded_p99 = out["unloaded"]["admitted_p99_ms"]
    threshold = GOALS["admitted_p99_ratio_max"] * unloaded_p99
    probe_rate = plan.probe_share * capacity
    run = asyncio.run(
        openload.open_load(target.base, mix, [Phase("probe", probe_rate, plan.probe_s)])
    )
    out["probe_before"] = loadstats.summarize(run, 0.0, plan.probe_s)
    normal_ms = GOALS["admitted_p99_ratio_max"] * out["probe_before"]["admitted_p99_ms"]
    out["normal_p99_ms"] = normal_ms
    print(
        f"  unloaded ({unloaded_rate:.0f}/s): p50 {out['unloaded']['admitted_p50_ms']:.1f} ms,"
        f" p99 {unloaded_p99:.1f} ms; probe load ({probe_rate:.0f}/s) before any spike: p99"
        f" {out['probe_before']['admitted_p99_ms']:.1f} ms, so a normal probe second has p99"
        f" <= {normal_ms:.1f} ms"
    )
    print("  " + header())
    for multiplier in plan.multipliers:
        run, cpu = spike(target, mix, multiplier * capacity, probe_rate, plan)
        figures = loadstats.summarize(run, *run.phase_window("spike"))
        probe_start, probe_end = run.phase_window("probe")
        buckets = loadstats.bucket_p99(run, probe_start, probe_end)
        level = {
            "multiplier": multiplier,
            **figures,
            "goodput_share": figures["goodput_per_s"] / capacity,
            "probe_bucket_p99_ms": buckets,
            "recovery_s": recovery_time(buckets, normal_ms),
            "probe": loadstats.summarize(run, probe_start, probe_end),
            "peak_connections": run.peak_connections,
            "cpu": cpu,
        }
        level["settle_s"] = settle(target, mix, unloaded_rate, threshold, plan)
        out["levels"].append(level)
        print("  " + format_row(level), flush=True)
    return out


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def main() -> None:
    plan = Plan.from_env()
    split, embedded = split_cluster(plan.cpu_split, PGDATA)
    postmaster = embedded.postmaster_pid
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "plan": asdict(plan),
        "cpu_split": {
            role: sorted(getattr(split, role))
            for role in ("server", "server_io", "postgres", "driver")
        }
        | {"mode": split.mode}
        if split
        else None,
        "goal_thresholds": GOALS,
        # Settings given to both servers from outside (GOURMET_LOGS__LEVEL=WARNING, ...).
        "gourmet_env": {k: v for k, v in os.environ.items() if k.startswith("GOURMET_")},
        "profiles": {},
    }
    capacity = env_float("OVERLOAD_CAPACITY", 0.0)
    results["idle_machine_cpu_pct"] = wait_for_quiet(plan.quiet_wait_s)
    try:
        url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
        for profile in plan.profiles:
            print(
                f"[{profile}] GOURMET_PROFILE={profile}"
                f" GOURMET_DATABASE__POOL_MAX_SIZE={plan.pool_max_size}"
            )
            with gourmet(url, profile, plan, postmaster, split) as target:
                if capacity == 0.0:
                    mix = build_mix(target.base)
                    results["capacity"] = measure_capacity(target, mix, plan)
                    capacity = results["capacity"]["goodput_per_s"]
                    best = results["capacity"]["best"]
                    print(
                        f"  capacity {capacity:.0f} 2xx/s (closed loop, {best['concurrency']}"
                        f" connections; server CPU {best.get('server_cpu_pct', 0):.0f}%)"
                    )
                    top = max(plan.multipliers) * capacity * 1.2
                    results["driver"] = calibrate_driver(target, top, plan)
                    print(
                        f"  driver: {results['driver']['achieved_per_s']:.0f}/s sent of"
                        f" {top:.0f}/s asked on /healthz"
                    )
                results["profiles"][profile] = sweep_profile(target, capacity, plan)
                results["profiles"][profile]["server_log"] = str(target.log)
        results["capacity_per_s"] = capacity
        results["goals"] = {
            name: check_goals(profile, capacity) for name, profile in results["profiles"].items()
        }
    finally:
        embedded.stop()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "overload.json"
    path.write_text(json.dumps(_finite(results), indent=2) + "\n")
    plot(results, RESULTS / "overload.png")
    print_report(results)
    print(f"\nresults written to {path} and {RESULTS / 'overload.png'}")


if __name__ == "__main__":
    openload.install_uvloop()
    main()
