"""The overload sweep's goals, table and plot (see :mod:`bench.overload`)."""

from __future__ import annotations

import math
import os
from typing import Any

GOALS = {
    "goodput_share_min": 0.90,  # of capacity, at the highest offered load
    # x the unloaded p99; recovered means within this many times the probe load's own p99
    "admitted_p99_ratio_max": 2.0,
    "shed_p99_ms_max": 10.0,
    "recovery_s_max": 5.0,
}
# CPU (% of one core) used by processes outside this benchmark above which a row is marked.
NOISY_OTHER_CPU_PCT = 25.0
# The driver's send lag p99 (ms) above which a row is marked: it fell behind its own schedule, so
# the latencies it measured include its own delay, and the load was burstier than Poisson.
DRIVER_LAG_MS = 5.0
COLUMNS = (
    ("offered/s", 11),
    ("sent/s", 7),
    ("lag99", 6),
    ("goodput/s", 9),
    ("%cap", 5),
    ("st+co/s", 9),
    ("ok p50", 7),
    ("ok p99", 7),
    ("shed", 6),
    ("shed p99", 8),
    ("errors", 13),
    ("recov", 6),
    ("cpu srv/pg/drv/oth", 18),
)


def header() -> str:
    return " ".join(f"{name:>{width}}" for name, width in COLUMNS)


def _ms(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.1f}"


def format_row(level: dict[str, Any]) -> str:
    recovery = level["recovery_s"]
    by_kind = level["goodput_by_kind_per_s"]
    cpu = level.get("cpu", {})
    errors = f"{level['errors']}"
    if level["errors"]:
        errors += f" ({level['timeouts']}t {level['client_misses']}m)"
    cells = (
        f"{level['multiplier']:g}x {level['offered_per_s']:.0f}",
        f"{level['achieved_per_s']:.0f}",
        _ms(level["send_lag_p99_ms"]),
        f"{level['goodput_per_s']:.0f}",
        f"{100 * level['goodput_share']:.0f}%",
        "+".join(f"{value:.0f}" for value in by_kind.values()),
        _ms(level["admitted_p50_ms"]),
        _ms(level["admitted_p99_ms"]),
        f"{level['shed']}",
        _ms(level["shed_p99_ms"]),
        errors,
        f"{recovery:.0f}s" if recovery is not None else "never",
        "/".join(
            f"{cpu.get(f'{name}_cpu_pct', math.nan):.0f}"
            for name in ("server", "postgres", "driver", "other")
        ),
    )
    row = " ".join(f"{cell:>{width}}" for cell, (_, width) in zip(cells, COLUMNS, strict=True))
    return row + (" *" if noisy(level) else "") + (" !" if driver_behind(level) else "")


def driver_behind(level: dict[str, Any]) -> bool:
    return bool(level["send_lag_p99_ms"] > DRIVER_LAG_MS)


def noisy(level: dict[str, Any]) -> bool:
    """Other work on the machine took a noticeable share of the CPU during this spike."""
    return bool(level.get("cpu", {}).get("other_cpu_pct", 0.0) > NOISY_OTHER_CPU_PCT)


def check_goals(profile: dict[str, Any], capacity: float) -> dict[str, Any]:
    """The brief's overload goals, judged at the highest offered load."""
    top = max(profile["levels"], key=lambda level: level["multiplier"])
    unloaded_p99 = profile["unloaded"]["admitted_p99_ms"]
    recovery = top["recovery_s"]
    shed_p99 = top["shed_p99_ms"]
    checks = {
        "goodput_share": (top["goodput_per_s"] / capacity, GOALS["goodput_share_min"], ">="),
        "admitted_p99_ratio": (
            top["admitted_p99_ms"] / unloaded_p99,
            GOALS["admitted_p99_ratio_max"],
            "<=",
        ),
        # Nothing refused is no fast refusal: an unmeasured shed p99 does not meet the goal.
        "shed_p99_ms": (
            math.inf if math.isnan(shed_p99) else shed_p99,
            GOALS["shed_p99_ms_max"],
            "<=",
        ),
        "recovery_s": (math.inf if recovery is None else recovery, GOALS["recovery_s_max"], "<="),
    }
    out: dict[str, Any] = {"at_multiplier": top["multiplier"]}
    for name, (value, goal, op) in checks.items():
        met = value >= goal if op == ">=" else value <= goal
        out[name] = {"value": value, "goal": goal, "op": op, "met": bool(met)}
    return out


def print_report(results: dict[str, Any]) -> None:
    capacity = results["capacity_per_s"]
    plan = results["plan"]
    split = results["cpu_split"]
    cores = (
        f"server on cores {sorted(split['server'])} (its I/O threads"
        f" {sorted(split.get('server_io', split['server']))}),"
        f" PostgreSQL {sorted(split['postgres'])},"
        f" driver {sorted(split['driver'])}"
        if split
        else "no CPU pinning"
    )
    print(
        f"\nGourmet overload, {results['machine']}: 1 granian worker,"
        f" GOURMET_DATABASE__POOL_MAX_SIZE={plan['pool_max_size']}, {cores}.\nCapacity"
        f" {capacity:.0f} 2xx/s (70% status, 30% checkout); spikes of {plan['spike_s']:g} s"
        f" then {plan['probe_s']:g} s at"
        f" {plan['probe_share']:g}x; Poisson arrivals, client timeout {plan['timeout_s']:g} s,"
        f" at most {plan['max_connections']} connections."
    )
    print(
        f"CPU busy before the run: {results['idle_machine_cpu_pct']:.0f}%"
        f" (of {os.cpu_count()} x 100%)."
    )
    if results.get("gourmet_env"):
        given = " ".join(f"{key}={value}" for key, value in results["gourmet_env"].items())
        print(f"Given to both servers from outside: {given}")
    driver = results.get("driver")
    if driver:
        print(
            f"Driver: sent {driver['achieved_per_s']:.0f}/s of {driver['target_per_s']:.0f}/s"
            f" asked on /healthz (send lag p99 {driver['send_lag_p99_ms']:.1f} ms, driver CPU"
            f" {driver['driver_cpu_pct']:.0f}%, client misses {driver['client_misses']})."
        )
    print(
        "Columns: latencies in ms from the intended send time; st+co = goodput of status reads +"
        " checkouts;\nerrors = non-2xx non-503 + timeouts (t) + connection errors + client misses"
        " (m); recov = seconds after the spike\nuntil every 1 s bucket of the probe has p99 <="
        " 2x the p99 of the probe's load before any spike\n(failures count as infinitely slow);"
        " cpu in % of one core;\n"
        f"* = processes outside the benchmark used > {NOISY_OTHER_CPU_PCT:g}% CPU during the"
        " spike: that row measured a busier machine;\n"
        f"! = the driver's send lag p99 passed {DRIVER_LAG_MS:g} ms: its latencies include its"
        " own delay."
    )
    for name, profile in results["profiles"].items():
        unloaded = profile["unloaded"]
        other = unloaded.get("cpu", {}).get("other_cpu_pct", 0.0)
        print(
            f"\n[{name}] unloaded p50 {_ms(unloaded['admitted_p50_ms'])} ms,"
            f" p99 {_ms(unloaded['admitted_p99_ms'])} ms"
            + (" *" if other > NOISY_OTHER_CPU_PCT else "")
        )
        print(header())
        for level in profile["levels"]:
            print(format_row(level))
    peak = max(
        (level["goodput_per_s"], name, level["multiplier"])
        for name, profile in results["profiles"].items()
        for level in profile["levels"]
    )
    print(
        f"\nHighest goodput seen in the sweep: {peak[0]:.0f}/s ({peak[1]} at {peak[2]:g}x) against"
        f" a capacity of {capacity:.0f}/s (the best closed loop refused at most 5%)."
        " Shedding checkouts before status reads shifts the mix served to cheap reads, so"
        " goodput can pass it."
    )
    best = results.get("capacity", {}).get("best", {}).get("goodput_by_kind_per_s", {})
    for name, profile in results["profiles"].items():
        top = max(profile["levels"], key=lambda level: level["multiplier"])
        served = top["goodput_by_kind_per_s"]
        share = ", ".join(
            f"{kind} {served.get(kind, 0):.0f}/s ({served.get(kind, 0) / rate:.0%})"
            for kind, rate in best.items()
            if rate
        )
        if share:
            print(f"  {name} at {top['multiplier']:g}x, by kind against capacity's mix: {share}")
        by_kind = top.get("admitted_p99_ms_by_kind", {})
        if by_kind:
            p99s = ", ".join(
                f"{kind} {'-' if ms is None else f'{ms:.1f} ms'}" for kind, ms in by_kind.items()
            )
            print(f"  {name} at {top['multiplier']:g}x, admitted p99 by kind: {p99s}")
    print("\nGoals at the highest offered load (hardened must meet them; incident for contrast):")
    for name in results["profiles"]:
        goals = results["goals"][name]
        parts = []
        for key in ("goodput_share", "admitted_p99_ratio", "shed_p99_ms", "recovery_s"):
            goal = goals[key]
            verdict = "ok" if goal["met"] else "MISSED"
            value = math.inf if goal["value"] is None else goal["value"]  # JSON has no infinity
            parts.append(f"{key} {value:.2f} {goal['op']} {goal['goal']:g} {verdict}")
        print(f"  {name:9} at {goals['at_multiplier']:g}x: " + "; ".join(parts))


def plot(results: dict[str, Any], path: os.PathLike[str] | str) -> None:
    """Goodput and p99 against offered load, one line per profile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    styles = {"hardened": ("tab:green", "o"), "incident": ("tab:red", "s")}
    top_share = 110.0
    for name, profile in results["profiles"].items():
        color, marker = styles.get(name, ("tab:blue", "^"))
        levels = profile["levels"]
        xs = [level["multiplier"] for level in levels]
        goodput = [100 * level["goodput_share"] for level in levels]
        left.plot(xs, goodput, marker=marker, color=color, label=name)
        top_share = max(top_share, *(share + 10 for share in goodput))
        p99 = [level["admitted_p99_ms"] for level in levels]
        right.plot(xs, p99, marker=marker, color=color, label=f"{name}: admitted (2xx) p99")
        shed = [level["shed_p99_ms"] for level in levels]
        if any(not math.isnan(value) for value in shed):
            right.plot(
                xs, shed, marker=marker, color=color, linestyle=":", label=f"{name}: 503 p99"
            )
    left.axhline(100 * GOALS["goodput_share_min"], color="grey", linestyle="--", linewidth=1)
    left.set(
        xscale="log",
        ylim=(0, top_share),
        xlabel="offered load (x capacity)",
        ylabel="goodput (% of capacity)",
        title=f"Goodput (capacity {results['capacity_per_s']:.0f} 2xx/s)",
    )
    right.axhline(GOALS["shed_p99_ms_max"], color="grey", linestyle="--", linewidth=1)
    right.set(
        xscale="log",
        yscale="log",
        xlabel="offered load (x capacity)",
        ylabel="p99 latency (ms)",
        title="p99 from the intended send time",
    )
    multipliers = results["plan"]["multipliers"]
    for axis in (left, right):
        axis.set_xticks(multipliers, labels=[f"{m:g}x" for m in multipliers])
        axis.minorticks_off()
        axis.grid(visible=True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(
        f"Gourmet overload, {results['machine']}, pool {results['plan']['pool_max_size']}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
