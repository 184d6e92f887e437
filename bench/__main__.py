"""``make bench``: Gourmet against baselines measured side by side in one run on this machine.

1. menu:     GET /api/menu on Gourmet vs the same bytes from a bare ASGI app (same server).
2. status:   GET /api/orders/{token} vs the same query behind a bare ASGI endpoint.
3. checkout: POST /api/orders (orders/s) vs pgbench TPC-B-like TPS on the same PostgreSQL.

Everything runs on a dedicated embedded PostgreSQL under var/bench-pgdata.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg

from gourmet.cli.seed import seed_demo
from gourmet.db import migrate
from gourmet.db.backup import tool
from gourmet.db.embedded import drop_database, ensure_database, start_embedded

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATABASE = "gourmet_bench"
PGBENCH_DATABASE = "pgbench"
GOURMET_APP_PORT = 8101
BARE_PORT = 8102
DURATION_S = int(os.environ.get("BENCH_DURATION_S", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
PGBENCH_CLIENTS = 8
# Status is answered from memory, which must beat the query itself (#10); the hot slot, where
# every checkout meets the same row, may do a little worse than orders spread over slots.
GOALS = {"menu": 0.5, "status": 2.0, "checkout": 0.5, "checkout_hot_slot": 0.4}

# Checkout, spread: each order picks one of the next 40 slots, as customers choosing times do.
SPREAD_LUA = """
slots = {%s}
request = function()
  local slot = slots[math.random(#slots)]
  local body = '{"fulfilment":"pickup","slot":"' .. slot .. '","customer":' ..
    '{"name":"Bench","phone":"555-0100"},"lines":[{"item_id":1,"quantity":1},' ..
    '{"item_id":8,"quantity":2,"option_ids":[5,8]}]}'
  return wrk.format("POST", "/api/orders", {["Content-Type"]="application/json"}, body)
end
"""

# Checkout, hot slot: every order is ASAP, so all of them contend for the same slot row.
CHECKOUT_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"fulfilment":"pickup","customer":{"name":"Bench","phone":"555-0100"},' ..
  '"lines":[{"item_id":1,"quantity":1},{"item_id":8,"quantity":2,"option_ids":[5,8]}]}'
"""


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"bench: '{tool}' is not installed (Debian package '{tool}')")
    return path


def prepare_database(admin_url: str, url: str) -> str:
    """Fresh bench database with the demo menu, open all day, capacity that never runs out."""
    drop_database(admin_url, DATABASE)
    ensure_database(admin_url, DATABASE)
    migrate.upgrade(url)
    asyncio.run(seed_demo(url, only_if_empty=False))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM opening_hours")
        conn.execute("INSERT INTO opening_hours SELECT d, 0, 1440 FROM generate_series(0, 6) AS d")
        conn.execute("UPDATE slot_capacity SET max_orders = 100000000")
        conn.execute("UPDATE restaurant SET lead_minutes = 0")
    return url


@contextmanager
def server(
    target: str,
    port: int,
    env: dict[str, str],
    factory: bool,
    cores: frozenset[int] | None = None,
) -> Iterator[str]:
    """Serve ``target`` with granian, one worker, on ``cores`` if given (its workers inherit)."""
    args = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-ws",
        "--log-level",
        "warning",
    ]
    if factory:
        args.append("--factory")
    pin = (lambda: os.sched_setaffinity(0, cores)) if cores else None
    proc = subprocess.Popen([*args, target], env=env, cwd=ROOT, preexec_fn=pin)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"{target} did not start on port {port}")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def wrk(url: str, script: str | None = None) -> dict[str, Any]:
    base = [need("wrk"), "-t2", f"-c{CONNECTIONS}", "--latency"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script or "")
        lua.flush()
        script_args = ["-s", lua.name] if script else []
        subprocess.run([*base, "-d2s", *script_args, url], capture_output=True, check=True)
        out = subprocess.run(
            [*base, f"-d{DURATION_S}s", *script_args, url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    seconds = float(re.search(r"requests in ([\d.]+)s", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = 0.0
    if p99:
        p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    ok = requests - (int(bad.group(1)) if bad else 0)
    return {
        "requests": requests,
        "ok_per_s": ok / seconds,
        "non_2xx": requests - ok,
        "p99_ms": p99_ms,
        "socket_errors": errors.group(1) if errors else "",
    }


def pgbench(admin_url: str, socket_dir: str) -> float:
    ensure_database(admin_url, PGBENCH_DATABASE)
    common = ["-h", socket_dir, "-U", "postgres"]
    subprocess.run(
        [tool("pgbench"), "-i", "-q", "-s", "10", *common, PGBENCH_DATABASE],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        [
            tool("pgbench"),
            "-b",
            "tpcb-like",
            "-c",
            str(PGBENCH_CLIENTS),
            "-j",
            "2",
            "-T",
            str(DURATION_S),
            *common,
            PGBENCH_DATABASE,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    need("wrk")
    embedded = start_embedded(ROOT / "var" / "bench-pgdata")
    url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
    socket_dir = url.rpartition("host=")[2]
    env = {
        **os.environ,
        "GOURMET_DATABASE__URL": url,
        # The load generator is one client: a per-client limit would measure only itself.
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        "GOURMET_DATA_DIR": str(ROOT / "var"),
        "PYTHONPATH": str(ROOT),
    }
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "duration_s": DURATION_S,
        "connections": CONNECTIONS,
    }
    with server("gourmet.app:create_server_app", GOURMET_APP_PORT, env, factory=True) as gourmet:
        order = httpx.post(
            gourmet + "/api/orders",
            json={
                "fulfilment": "pickup",
                "customer": {"name": "Bench", "phone": "555-0100"},
                "lines": [{"item_id": 8, "quantity": 2, "option_ids": [5, 8]}],
            },
        ).json()
        token = order["token"]
        results["menu"] = {"gourmet": wrk(gourmet + "/api/menu")}
        results["status"] = {"gourmet": wrk(f"{gourmet}/api/orders/{token}")}
        slots = httpx.get(gourmet + "/api/slots").json()["slots"][:40]
        spread = SPREAD_LUA % ",".join(f'"{slot["start"]}"' for slot in slots)
        results["checkout"] = {
            "gourmet": wrk(gourmet + "/api/orders", spread),
            "gourmet_hot_slot": wrk(gourmet + "/api/orders", CHECKOUT_LUA),
        }
    with server("bench.bare_app:app", BARE_PORT, env, factory=False) as bare:
        results["menu"]["bare_asgi"] = wrk(bare + "/menu")
        results["status"]["bare_asgi"] = wrk(f"{bare}/orders/{token}")
    results["checkout"]["pgbench_tps"] = pgbench(embedded.admin_url, socket_dir)
    with psycopg.connect(url) as conn:
        stored = conn.execute("SELECT count(*) FROM orders").fetchone()
    results["checkout"]["orders_stored"] = stored[0] if stored else 0

    ratios = {
        "menu": results["menu"]["gourmet"]["ok_per_s"] / results["menu"]["bare_asgi"]["ok_per_s"],
        "status": results["status"]["gourmet"]["ok_per_s"]
        / results["status"]["bare_asgi"]["ok_per_s"],
        "checkout": results["checkout"]["gourmet"]["ok_per_s"] / results["checkout"]["pgbench_tps"],
        "checkout_hot_slot": results["checkout"]["gourmet_hot_slot"]["ok_per_s"]
        / results["checkout"]["pgbench_tps"],
    }
    results["ratios"] = ratios
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    embedded.stop()

    print(f"\nGourmet benchmarks ({results['machine']}, wrk -c{CONNECTIONS}, {DURATION_S}s each)")
    rows = [
        (
            "menu",
            "GET /api/menu",
            results["menu"]["gourmet"]["ok_per_s"],
            "bare ASGI, same bytes",
            results["menu"]["bare_asgi"]["ok_per_s"],
        ),
        (
            "status",
            "GET /api/orders/{token}",
            results["status"]["gourmet"]["ok_per_s"],
            "bare ASGI, same query",
            results["status"]["bare_asgi"]["ok_per_s"],
        ),
        (
            "checkout",
            "POST /api/orders, 40 slots",
            results["checkout"]["gourmet"]["ok_per_s"],
            "pgbench TPC-B TPS",
            results["checkout"]["pgbench_tps"],
        ),
        (
            "checkout_hot_slot",
            "POST /api/orders, ASAP",
            results["checkout"]["gourmet_hot_slot"]["ok_per_s"],
            "pgbench TPC-B TPS",
            results["checkout"]["pgbench_tps"],
        ),
    ]
    for key, what, value, base_what, base in rows:
        verdict = "meets" if ratios[key] >= GOALS[key] else "BELOW"
        print(
            f"  {what:26} {value:9.0f}/s  vs {base_what:22} {base:9.0f}/s"
            f"  ratio {ratios[key]:.2f} (goal >= {GOALS[key]}: {verdict})"
        )
    print(f"results written to {RESULTS / 'latest.json'}")


if __name__ == "__main__":
    main()
