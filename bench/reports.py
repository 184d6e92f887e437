"""``python -m bench.reports``: a year of orders and the manager's year report, in one run.

A manager reads a year of sales during a rush: the report must answer within a second, and
checkout must not slow down while it is open. With ``SCALE_ORDERS`` (1,000,000) past orders
spread over the last year (``bench.scale``'s), the background job's daily summaries are brought
up to date first (past days come from them, never recomputed per view), then: the year report's
answer time (``GET /api/manage/reports?from=<a year ago>&to=<today>``, five times), and
checkout's throughput with wrk (orders spread over 40 slots), alone and while a manager's
browser asks for the year report again and again, side by side. Goals: the report under 1 s;
checkout with the report open at least 0.9 of checkout alone. The server and PostgreSQL share
one core, wrk and the manager's browser (this process) the other (``cpu_split`` "sut"), so that
the reader's own work is not counted against the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import threading
import time
from datetime import UTC, datetime, timedelta
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
    server,
    wrk,
)
from bench.cpus import split_cluster
from bench.scale import PAST_ORDERS, add_past_orders
from gourmet.config import Settings
from gourmet.db.setup import guarded_pool
from gourmet.reports.service import DailySales, SalesReports

STAFF_TOKEN = "bench-reports-staff-token-0123456789"
HEADERS = {"Authorization": f"Bearer {STAFF_TOKEN}"}
REPORT_GOAL_S = 1.0
CHECKOUT_GOAL = 0.9
READS = 5


async def summarize(url: str) -> tuple[int, float]:
    """Bring the daily summaries up to date, as the background job does round after round;
    the days stored and the seconds it took."""
    settings = Settings(_env_file=None).changed(  # type: ignore[call-arg]
        database={"url": url, "pool_min_size": 1, "pool_max_size": 2}
    )
    pool = await guarded_pool(settings, url)
    await pool.pool.open(wait=True, timeout=30)
    started, stored = time.monotonic(), 0
    try:
        job = DailySales(pool, SalesReports(pool, settings.tz, settings.restaurant.currency))
        while days := await job.refresh():
            stored += days
    finally:
        await pool.pool.close()
    return stored, time.monotonic() - started


def year_report_url(base: str) -> str:
    today = datetime.now(UTC).date()
    return f"{base}/api/manage/reports?from={today - timedelta(days=365)}&to={today}"


def read_report(url: str) -> list[float]:
    seconds = []
    with httpx.Client(timeout=30) as client:
        for _ in range(READS):
            started = time.monotonic()
            answer = client.get(url, headers=HEADERS)
            answer.raise_for_status()
            seconds.append(time.monotonic() - started)
    return seconds


def checkout(base: str) -> dict[str, Any]:
    slots = httpx.get(base + "/api/slots").json()["slots"][:40]
    spread = SPREAD_LUA % ",".join(f'"{slot["start"]}"' for slot in slots)
    return wrk(base + "/api/orders", spread)


def checkout_with_the_report_open(base: str, url: str) -> tuple[dict[str, Any], int]:
    """Checkout while a manager's browser asks for the year report back to back."""
    stop, reads = threading.Event(), [0]

    def manager() -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                client.get(url, headers=HEADERS)
                reads[0] += 1

    reader = threading.Thread(target=manager, daemon=True)
    reader.start()
    try:
        figures = checkout(base)
    finally:
        stop.set()
        reader.join(timeout=30)
    return figures, reads[0]


def main() -> None:
    need("wrk")
    split, embedded = split_cluster("sut", ROOT / "var" / "bench-pgdata")
    url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "past_orders": PAST_ORDERS,
        "cpu_split": split.mode if split else None,
    }
    results["generate_s"] = add_past_orders(url, PAST_ORDERS)
    results["days_summarized"], results["summarize_s"] = asyncio.run(summarize(url))
    env = {
        **os.environ,
        "GOURMET_DATABASE__URL": url,
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        "GOURMET_DATA_DIR": str(ROOT / "var"),
        "GOURMET_SECURITY__STAFF_TOKEN": STAFF_TOKEN,
        "PYTHONPATH": str(ROOT),
    }
    try:
        cores = split.server if split else None
        with server(
            "gourmet.app:create_server_app", GOURMET_APP_PORT, env, factory=True, cores=cores
        ) as base:
            report = year_report_url(base)
            results["report_s"] = read_report(report)
            results["checkout_alone"] = checkout(base)
            results["checkout_with_report"], results["reports_read"] = (
                checkout_with_the_report_open(base, report)
            )
    finally:
        embedded.stop()
    alone = results["checkout_alone"]["ok_per_s"]
    shared = results["checkout_with_report"]["ok_per_s"]
    results["ratio"] = shared / alone if alone else 0.0
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reports.json").write_text(json.dumps(results, indent=2) + "\n")

    median = statistics.median(results["report_s"])
    print(
        f"\nA year of orders ({PAST_ORDERS:,} written in {results['generate_s']:.0f} s;"
        f" {results['days_summarized']} days summarized in {results['summarize_s']:.1f} s)"
    )
    verdict = "meets" if max(results["report_s"]) < REPORT_GOAL_S else "MISSES"
    print(
        f"  the year report: median {median * 1000:.0f} ms, worst"
        f" {max(results['report_s']) * 1000:.0f} ms of {READS} (goal < {REPORT_GOAL_S:.0f} s:"
        f" {verdict})"
    )
    verdict = "meets" if results["ratio"] >= CHECKOUT_GOAL else "BELOW"
    print(
        f"  checkout alone {alone:.0f}/s; with the report read back to back"
        f" ({results['reports_read']} reads) {shared:.0f}/s; ratio {results['ratio']:.2f}"
        f" (goal >= {CHECKOUT_GOAL}: {verdict}; wrk, {DURATION_S} s each; cores split:"
        f" {results['cpu_split'] or 'none'})"
    )
    print(f"results written to {RESULTS / 'reports.json'}")


if __name__ == "__main__":
    main()
