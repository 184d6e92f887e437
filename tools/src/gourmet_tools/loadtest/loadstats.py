"""What a load run measured: latency percentiles, per-window summaries, per-second buckets, and
the CPU each party (driver, app server, PostgreSQL, everything else) used meanwhile."""

from __future__ import annotations

import math
import os
import resource
import time
from typing import Any

from gourmet_tools.loadtest.loadrun import CONN_ERROR, MISS, OUTCOME_NAMES, PENDING, TIMEOUT, Run
from gourmet_tools.percentiles import percentile


def summarize(run: Run, start: float, end: float) -> dict[str, Any]:
    """Figures for the requests intended in ``[start, end)``: rates per second, latencies in ms."""
    rows = run.rows(start, end)
    seconds = end - start
    status = run.status
    ok_ms = [run.latency[i] * 1000 for i in rows if 200 <= status[i] < 300]
    shed_ms = [run.latency[i] * 1000 for i in rows if status[i] == 503]
    counts = {
        "timeouts": sum(1 for i in rows if status[i] == TIMEOUT),
        "connection_errors": sum(1 for i in rows if status[i] == CONN_ERROR),
        "client_misses": sum(1 for i in rows if status[i] == MISS),
        "http_errors": sum(1 for i in rows if status[i] > 0 and not 200 <= status[i] < 300)
        - len(shed_ms),
        "pending": sum(1 for i in rows if status[i] == PENDING),
    }
    ok_by_kind = dict.fromkeys(run.kinds, 0)
    ok_ms_by_kind: dict[str, list[float]] = {name: [] for name in run.kinds}
    for i in rows:
        if 200 <= status[i] < 300:
            name = run.kinds[run.kind[i]]
            ok_by_kind[name] += 1
            ok_ms_by_kind[name].append(run.latency[i] * 1000)
    statuses: dict[str, int] = {}
    for i in rows:
        name = OUTCOME_NAMES.get(status[i], str(status[i]))
        statuses[name] = statuses.get(name, 0) + 1
    sent = [run.sent[i] for i in rows if status[i] != MISS]
    lag_ms = [(run.sent[i] - run.intended[i]) * 1000 for i in rows]
    # Achieved send rate: requests put on the wire, over the time the driver took to send them.
    # A driver that falls behind stretches that time, so the rate shows it.
    span = max(max(sent, default=start) - start, seconds) if sent else seconds
    return {
        "requests": len(rows),
        "offered_per_s": len(rows) / seconds,
        "achieved_per_s": len(sent) / span,
        "send_lag_p99_ms": percentile(lag_ms, 99),
        "goodput_per_s": len(ok_ms) / seconds,
        "goodput_by_kind_per_s": {name: n / seconds for name, n in ok_by_kind.items()},
        "ok": len(ok_ms),
        "shed": len(shed_ms),
        **counts,
        "errors": counts["timeouts"]
        + counts["connection_errors"]
        + counts["client_misses"]
        + counts["http_errors"],
        "admitted_p50_ms": percentile(ok_ms, 50),
        "admitted_p99_ms": percentile(ok_ms, 99),
        # A checkout that waited its turn in line is admitted late by design: by kind, the
        # reads' latency shows apart from the orders' time in line.
        "admitted_p99_ms_by_kind": {
            name: percentile(values, 99) for name, values in ok_ms_by_kind.items()
        },
        "shed_p99_ms": percentile(shed_ms, 99),
        "statuses": statuses,
    }


def bucket_p99(run: Run, start: float, end: float, width_s: float = 1.0) -> list[float]:
    """p99 latency (ms) of each ``width_s`` bucket of intended times in ``[start, end)``, where
    a request that did not succeed counts as infinitely slow: a bucket is under a threshold only
    if at least 99% of its requests succeeded within it."""
    out = []
    t = start
    while t < end - 1e-9:
        rows = run.rows(t, min(t + width_s, end))
        values = [run.latency[i] * 1000 if 200 <= run.status[i] < 300 else math.inf for i in rows]
        out.append(percentile(values, 99))
        t += width_s
    return out


def process_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far) for every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rpartition(")")[2].split()
            except OSError:
                continue
            table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return table


def process_tree(table: dict[int, tuple[int, float]], root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class CpuMeter:
    """CPU used (100% = one core) by the machine, this driver and the process trees in ``trees``
    (app server, PostgreSQL) between creation and :meth:`read`; "other" is everything else."""

    def __init__(self, trees: dict[str, int]) -> None:
        self.trees = trees
        self._start = self._sample()

    def _sample(self) -> dict[str, float]:
        with open("/proc/stat") as stat:
            fields = [float(v) for v in stat.readline().split()[1:]]
        usage = resource.getrusage(resource.RUSAGE_SELF)
        sample = {
            "time": time.monotonic(),
            "machine": (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK"),
            "driver": usage.ru_utime + usage.ru_stime,
        }
        table = process_table()
        for name, root in self.trees.items():
            sample[name] = sum(table[pid][1] for pid in process_tree(table, root) if pid in table)
        return sample

    def read(self) -> dict[str, float]:
        end = self._sample()
        seconds = max(end["time"] - self._start["time"], 1e-9)
        used = {
            name: 100 * (end[name] - self._start[name]) / seconds for name in end if name != "time"
        }
        used["other"] = used["machine"] - sum(v for k, v in used.items() if k != "machine")
        return {f"{name}_cpu_pct": value for name, value in used.items()}
