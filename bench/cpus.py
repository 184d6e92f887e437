"""CPU for benchmarks: the load generator must not take the server's CPU, and the report says
who used what. Cores are split between the server, PostgreSQL and the driver, and a run starts
on a quiet machine."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from gourmet_tools.loadtest.loadstats import CpuMeter, process_table, process_tree

from gourmet.db.embedded import EmbeddedPostgres, start_embedded


@dataclass(frozen=True)
class CpuSplit:
    """Which cores the app server (its Python thread, and granian's Rust I/O threads),
    PostgreSQL and this driver may run on."""

    mode: str
    server: frozenset[int]
    server_io: frozenset[int]
    postgres: frozenset[int]
    driver: frozenset[int]


def cpu_split(mode: str) -> CpuSplit | None:
    """``server``: the server's Python thread, which runs all of Gourmet's code, gets the first
    core alone (it cannot use more than one); granian's Rust I/O thread, PostgreSQL and the driver
    share the others. ``process``: the whole server process on the first core, its I/O thread
    included, which then costs the Python thread a context switch each way per request (a hello
    world ASGI app there takes half the core at 7,700 requests/s). ``sut``: the server and
    PostgreSQL share all cores but the last, which the driver gets alone. ``off``: no pinning."""
    cores = sorted(os.sched_getaffinity(0))
    if mode == "off" or len(cores) < 2:
        return None
    first, rest = frozenset(cores[:1]), frozenset(cores[1:])
    if mode == "server":
        return CpuSplit(mode, server=first, server_io=rest, postgres=rest, driver=rest)
    if mode == "process":
        return CpuSplit(mode, server=first, server_io=first, postgres=rest, driver=rest)
    if mode == "sut":
        system = frozenset(cores[:-1])
        return CpuSplit(mode, system, system, postgres=system, driver=frozenset(cores[-1:]))
    raise SystemExit(f"OVERLOAD_CPU_SPLIT={mode}: expected server, process, sut or off")


def pin_io_threads(root: int, cores: frozenset[int]) -> int:
    """Pin the Rust runtime threads (named ``tokio-*``) of the server's processes to ``cores``."""
    pinned = 0
    for pid in process_tree(process_table(), root):
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in threads:
            try:
                name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
                if name.startswith("tokio"):
                    os.sched_setaffinity(int(tid), cores)
                    pinned += 1
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                pass
    return pinned


def pin_tree(root: int, cores: frozenset[int]) -> int:
    """Pin ``root`` and its descendants (backends PostgreSQL forks later inherit the mask)."""
    pinned = 0
    for pid in process_tree(process_table(), root):
        try:
            os.sched_setaffinity(pid, cores)
            pinned += 1
        except (ProcessLookupError, PermissionError):
            pass
    return pinned


def wait_for_quiet(limit_s: float, busy_pct: float = 20.0) -> float:
    """Wait (up to ``limit_s``) for a second in which the machine is nearly idle: a benchmark
    sharing its CPU with other work measures that work too. Returns the last second's CPU use."""
    deadline = time.monotonic() + limit_s
    while True:
        meter = CpuMeter({})
        time.sleep(1.0)
        used = meter.read()["machine_cpu_pct"]
        if used <= busy_pct:
            return used
        if time.monotonic() > deadline:
            print(
                f"warning: the machine is still {used:.0f}% busy with other work; rows marked"
                " '*' below measured a busier machine"
            )
            return used


def split_cluster(mode: str, pgdata: Path) -> tuple[CpuSplit | None, EmbeddedPostgres]:
    """The CPU split for ``mode`` and a PostgreSQL cluster of the benchmark's own in ``pgdata``
    (``make bench`` can run meanwhile, and pinning it touches nobody else's), pinned to its
    cores, this process (the driver) to the driver's. The split is computed before this process
    pins itself: afterwards it would see only the driver's cores and pin nothing."""
    split = cpu_split(mode)
    embedded = start_embedded(pgdata)
    if split is not None and embedded.postmaster_pid is not None:
        pin_tree(embedded.postmaster_pid, split.postgres)
        os.sched_setaffinity(0, split.driver)
    return split, embedded
