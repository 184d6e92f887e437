"""The plan of an overload sweep, and the server it measures: a fresh granian process running
one profile, on its own core when the CPU is split (:mod:`bench.cpus`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.__main__ import ROOT
from bench.cpus import CpuSplit, pin_io_threads
from gourmet.config import Settings

PORT = 8103
PROFILES = ("hardened", "incident")


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class Plan:
    """Durations and sizes of one sweep; every field can be set from the environment."""

    spike_s: float
    probe_s: float
    capacity_step_s: float
    unloaded_s: float
    multipliers: tuple[float, ...]
    profiles: tuple[str, ...]
    pool_max_size: int
    max_connections: int
    timeout_s: float
    cpu_split: str
    unloaded_share: float = 0.1
    probe_share: float = 0.5
    settle_max_s: float = 10.0
    quiet_wait_s: float = 30.0

    @classmethod
    def from_env(cls) -> Plan:
        quick = os.environ.get("OVERLOAD_QUICK", "") not in ("", "0")
        multipliers = os.environ.get("OVERLOAD_MULTIPLIERS", "0.5,1,2,5,10")
        return cls(
            spike_s=env_float("OVERLOAD_SPIKE_S", 4 if quick else 7),
            probe_s=env_float("OVERLOAD_PROBE_S", 6 if quick else 8),
            capacity_step_s=2 if quick else 3,
            # Long enough for a p99 of a thousand samples: the admitted p99 goal is relative to it.
            unloaded_s=env_float("OVERLOAD_UNLOADED_S", 8 if quick else 15),
            multipliers=tuple(float(m) for m in multipliers.split(",")),
            profiles=tuple(os.environ.get("OVERLOAD_PROFILES", ",".join(PROFILES)).split(",")),
            pool_max_size=int(os.environ.get("OVERLOAD_POOL_MAX_SIZE", "1")),
            max_connections=int(os.environ.get("OVERLOAD_MAX_CONNECTIONS", "4096")),
            timeout_s=env_float("OVERLOAD_TIMEOUT_S", 5.0),
            cpu_split=os.environ.get("OVERLOAD_CPU_SPLIT", "server"),
        )


@dataclass(frozen=True)
class Target:
    """A running app server: where to reach it and which processes to account CPU to."""

    base: str
    trees: dict[str, int]
    log: Path


@contextmanager
def gourmet(
    url: str, profile: str, plan: Plan, postmaster: int | None, split: CpuSplit | None
) -> Iterator[Target]:
    """A fresh granian process running ``profile``, on its own core when the CPU is split."""
    env = {
        **os.environ,
        "GOURMET_DATABASE__URL": url,
        # The load generator is one client: a per-client limit would measure only itself.
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        "GOURMET_DATA_DIR": str(ROOT / "var"),
        "GOURMET_PROFILE": profile,
        **(
            {"GOURMET_DATABASE__POOL_MAX_SIZE": str(plan.pool_max_size)}
            if plan.pool_max_size
            else {}
        ),
        "PYTHONPATH": str(ROOT),
    }
    args = [sys.executable, "-m", "granian", "--interface", "asgi", "--host", "127.0.0.1"]
    args += ["--port", str(PORT), "--workers", "1", "--no-ws", "--log-level", "warning"]
    # The accept queue the profile asks for (bounded in the hardened one) and the connection cap,
    # as `gourmet serve` passes them.
    chosen: dict[str, Any] = {"profile": profile}  # and GOURMET_* from the environment
    settings = Settings(**chosen)
    args += [
        "--backlog",
        str(settings.server.backlog),
        "--backpressure",
        str(settings.server.max_connections),
    ]
    args += ["--factory", "gourmet.app:create_server_app"]
    log = ROOT / "var" / f"overload-{profile}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            args,
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            # The worker process inherits the mask granian's main process starts with.
            preexec_fn=(lambda: os.sched_setaffinity(0, split.server)) if split else None,
        )
        base = f"http://127.0.0.1:{PORT}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"the {profile} server did not start; see {log}")
                time.sleep(0.2)
            io_apart = split is not None and split.server_io != split.server
            if io_apart and split is not None and not pin_io_threads(proc.pid, split.server_io):
                raise RuntimeError("no granian I/O thread found to pin")
            trees = {"server": proc.pid}
            if postmaster is not None:
                trees["postgres"] = postmaster
            yield Target(base, trees, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
