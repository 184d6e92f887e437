"""``python -m bench.workers``: one worker against two, and PgBouncer against direct
connections, side by side in one run.

Each phase starts ``gourmet serve`` afresh on the bench database and measures, with wrk, a read
answered from memory (``GET /api/menu``), a read from the database (``GET /api/orders/{token}``
with ``GOURMET_ORDERS__VIEWS_HELD=0``) and checkout (orders spread over 40 slots). Phases: one
worker, two workers, and two workers whose pools go through PgBouncer in transaction mode (the
LISTEN connection straight to PostgreSQL).

Goals (issue #11): two workers serve reads at least 1.6x one worker; PgBouncer keeps at least
0.9x of direct connections. wrk runs on the same two cores as the server: what two workers gain
is bounded by what wrk takes, and the report says so rather than hide it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.__main__ import (
    DATABASE,
    DURATION_S,
    GOURMET_APP_PORT,
    RESULTS,
    ROOT,
    SPREAD_LUA,
    need,
    prepare_database,
    wrk,
)
from gourmet.config import Settings
from gourmet.db.embedded import start_embedded
from gourmet.db.pgbouncer import BouncerConfig, LocalBouncer

GOALS = {"workers_reads": 1.6, "pgbouncer": 0.9}
ORDER = {
    "fulfilment": "pickup",
    "customer": {"name": "Bench", "phone": "555-0100"},
    "lines": [{"item_id": 8, "quantity": 2, "option_ids": [5, 8]}],
}
BOUNCER_PORT = 8103
BOUNCER_SERVER_CONNECTIONS = 20  # as many as two workers' direct pools would hold


@contextmanager
def gourmet_serve(env: dict[str, str]) -> Iterator[str]:
    """``gourmet serve`` with ``env``; its base URL once every worker answers."""
    command = [str(ROOT / ".venv" / "bin" / "gourmet"), "serve"]
    if not os.path.exists(command[0]):
        command = [sys.executable, "-m", "gourmet.cli", "serve"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{GOURMET_APP_PORT}"
    try:
        deadline = time.monotonic() + 60
        workers = int(env["GOURMET_SERVER__WORKERS"])
        while not _all_workers_up(base, workers):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gourmet serve did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)  # at once, no drain
        process.wait(timeout=30)


def _all_workers_up(base: str, workers: int) -> bool:
    try:
        page = httpx.get(base + "/metrics", timeout=1).text
    except httpx.HTTPError:
        return False
    for line in page.splitlines():
        if line.startswith("gourmet_db_pool_max "):
            # Each worker adds its pool once it has started and sampled.
            return float(line.split()[1]) >= workers * float(env_pool_size())
    return False


def env_pool_size() -> int:
    return int(os.environ.get("BENCH_POOL_SIZE", "10"))


def measure(base: str) -> dict[str, Any]:
    token = httpx.post(base + "/api/orders", json=ORDER).json()["token"]
    slots = httpx.get(base + "/api/slots").json()["slots"][:40]
    spread = SPREAD_LUA % ",".join(f'"{slot["start"]}"' for slot in slots)
    return {
        "menu": with_cpu(lambda: wrk(base + "/api/menu")),
        "order_status": with_cpu(lambda: wrk(f"{base}/api/orders/{token}")),
        "checkout": with_cpu(lambda: wrk(base + "/api/orders", spread)),
    }


def with_cpu(run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The run's figures and how busy the machine's cores were meanwhile (0 to 1): when they
    are already full with one worker (wrk, PostgreSQL and PgBouncer share them), a second
    worker has nothing to run on."""
    before = _cpu_times()
    figures = run()
    after = _cpu_times()
    idle = after[1] - before[1]
    total = after[0] - before[0]
    return {**figures, "cpu_busy": 1 - idle / total if total else 0.0}


def _cpu_times() -> tuple[int, int]:
    """All jiffies and idle ones (idle + iowait), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields), fields[3] + fields[4]


def main() -> None:
    need("wrk")
    embedded = start_embedded(ROOT / "var" / "bench-pgdata")
    url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
    base_env = {
        **os.environ,
        "GOURMET_DATABASE__URL": url,
        "GOURMET_SERVER__PORT": str(GOURMET_APP_PORT),
        "GOURMET_DATA_DIR": str(ROOT / "var" / "bench-workers"),
        "GOURMET_SECURITY__STAFF_TOKEN": "bench-workers-staff-token-0123456789",
        "GOURMET_PAYMENTS__URL": "",
        "GOURMET_ORDERS__VIEWS_HELD": "0",
        "GOURMET_DATABASE__POOL_MAX_SIZE": str(env_pool_size()),
        # The load generator is one client: a per-client limit would measure only itself.
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        "GOURMET_LOGS__LEVEL": "WARNING",
    }
    base_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "duration_s": DURATION_S}
    for phase, workers in (("one_worker", 1), ("two_workers", 2)):
        with gourmet_serve({**base_env, "GOURMET_SERVER__WORKERS": str(workers)}) as gourmet:
            results[phase] = measure(gourmet)
    bouncer = LocalBouncer(
        BouncerConfig(url, port=BOUNCER_PORT, pool_size=BOUNCER_SERVER_CONNECTIONS)
    ).start(Settings())
    try:
        through = {
            **base_env,
            "GOURMET_SERVER__WORKERS": "2",
            "GOURMET_DATABASE__URL": bouncer.url(DATABASE),
            "GOURMET_DATABASE__POOLER": "pgbouncer",
            "GOURMET_DATABASE__LISTEN_URL": url,
        }
        with gourmet_serve(through) as gourmet:
            results["two_workers_pgbouncer"] = measure(gourmet)
    finally:
        bouncer.stop()
        embedded.stop()
    report(results)


def report(results: dict[str, Any]) -> None:
    names = {
        "menu": "GET /api/menu (memory)",
        "order_status": "GET /api/orders/{token} (db)",
        "checkout": "POST /api/orders",
    }
    ratios: dict[str, dict[str, float]] = {"workers": {}, "pgbouncer": {}}
    print(f"\nWorkers and PgBouncer (wrk, {DURATION_S}s each, same 2 cores as the server)")
    for name, what in names.items():
        one = results["one_worker"][name]
        two = results["two_workers"][name]
        pooled = results["two_workers_pgbouncer"][name]
        ratios["workers"][name] = two["ok_per_s"] / one["ok_per_s"]
        ratios["pgbouncer"][name] = pooled["ok_per_s"] / two["ok_per_s"]
        print(
            f"  {what:30} 1 worker {one['ok_per_s']:7.0f}/s  2 workers {two['ok_per_s']:7.0f}/s"
            f" ({ratios['workers'][name]:.2f}x)  2 via PgBouncer {pooled['ok_per_s']:7.0f}/s"
            f" ({ratios['pgbouncer'][name]:.2f}x of direct)"
            f"  p99 {one['p99_ms']:.1f}/{two['p99_ms']:.1f}/{pooled['p99_ms']:.1f} ms"
            f"  cores busy {one['cpu_busy']:.0%}/{two['cpu_busy']:.0%}/{pooled['cpu_busy']:.0%}"
        )
    reads = min(ratios["workers"]["menu"], ratios["workers"]["order_status"])
    bouncer = min(ratios["pgbouncer"].values())
    for label, value, goal in (
        ("two workers on reads", reads, GOALS["workers_reads"]),
        ("PgBouncer against direct", bouncer, GOALS["pgbouncer"]),
    ):
        verdict = "met" if value >= goal else "MISSED"
        print(f"  {label}: {value:.2f}x (goal >= {goal}: {verdict})")
    results["ratios"] = ratios
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "workers.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {RESULTS / 'workers.json'}")


if __name__ == "__main__":
    main()
