"""``python -m bench.scale``: checkout, order status and the kitchen board on an empty database
and with a million past orders, side by side in one run.

A restaurant's database grows by every order it ever took; what customers and the kitchen wait
for must not. Each phase starts a fresh server and measures, with wrk: the kitchen board
(``GET /api/staff/orders``, 20 open orders), order status read from the database
(``GOURMET_ORDERS__VIEWS_HELD=0``: every read is the indexed query, the path a status read not held
in memory takes) and checkout (orders spread over 40 slots). Between the phases, a million past
orders, each with a line and its history, are written with ``generate_series`` and analysed.
Goal: every figure at scale within 1.2x of the empty database's (a ratio of at least 0.83).

``SCALE_ORDERS`` (1,000,000) and ``BENCH_DURATION_S`` (10) change the size and the length.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

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
from gourmet.db.embedded import start_embedded

PAST_ORDERS = int(os.environ.get("SCALE_ORDERS", "1000000"))
OPEN_ORDERS = 20
STAFF_TOKEN = "bench-scale-staff-token-0123456789"
GOAL = 1 / 1.2
BOARD_LUA = f'wrk.headers["Authorization"] = "Bearer {STAFF_TOKEN}"\n'
ORDER = {
    "fulfilment": "pickup",
    "customer": {"name": "Bench", "phone": "555-0100"},
    "lines": [{"item_id": 8, "quantity": 2, "option_ids": [5, 8]}],
}

# A year of past orders: picked up and completed, one line each, two history entries each.
PAST_ORDERS_SQL = """
INSERT INTO orders (token, status, fulfilment, asap, slot_start, customer_name, phone,
    payment_method, subtotal_cents, delivery_fee_cents, tax_cents, total_cents, created_at,
    updated_at)
SELECT 'past-' || lpad(n::text, 16, '0'), 'completed', 'pickup', true,
    now() - make_interval(mins => n %% 525600) - interval '1 day', 'Past customer', '555-0100',
    'pay_at_pickup', 1250, 0, 125, 1375,
    now() - make_interval(mins => n %% 525600) - interval '1 day',
    now() - make_interval(mins => n %% 525600) - interval '1 day'
FROM generate_series(1, %(count)s) AS n
"""
PAST_LINES_SQL = """
INSERT INTO order_line (order_id, position, item_id, name, quantity, unit_price_cents,
    line_total_cents)
SELECT o.id, 0, 1, 'Past item', 1, 1250, 1250 FROM orders o WHERE o.token LIKE 'past-%'
"""
PAST_HISTORY_SQL = """
INSERT INTO order_status_history (order_id, from_status, to_status, actor, at)
SELECT o.id, s.from_status, s.to_status, 'bench', o.created_at FROM orders o
CROSS JOIN (VALUES (NULL, 'received'), ('received', 'completed')) AS s(from_status, to_status)
WHERE o.token LIKE 'past-%'
"""


def measure(base: str) -> dict[str, Any]:
    """The three figures against a running server, with OPEN_ORDERS open orders on the board."""
    tokens = [
        httpx.post(base + "/api/orders", json=ORDER).json()["token"] for _ in range(OPEN_ORDERS)
    ]
    figures = {
        "kitchen_board": wrk(base + "/api/staff/orders", BOARD_LUA),
        "order_status": wrk(f"{base}/api/orders/{tokens[0]}"),
    }
    slots = httpx.get(base + "/api/slots").json()["slots"][:40]
    spread = SPREAD_LUA % ",".join(f'"{slot["start"]}"' for slot in slots)
    figures["checkout"] = wrk(base + "/api/orders", spread)
    return figures


def close_open_orders(url: str) -> None:
    """The phase's orders become past ones, so each phase starts with the same open board."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE orders SET status = 'completed' WHERE status <> 'completed'")


def add_past_orders(url: str, count: int) -> float:
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        conn.execute(PAST_ORDERS_SQL, {"count": count})
        conn.execute(PAST_LINES_SQL)
        conn.execute(PAST_HISTORY_SQL)
        conn.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def main() -> None:
    need("wrk")
    embedded = start_embedded(ROOT / "var" / "bench-pgdata")
    url = prepare_database(embedded.admin_url, embedded.url_for(DATABASE))
    env = {
        **os.environ,
        "GOURMET_DATABASE__URL": url,
        # The load generator is one client: a per-client limit would measure only itself.
        "GOURMET_SECURITY__CHECKOUTS_PER_CLIENT": "0",
        "GOURMET_DATA_DIR": str(ROOT / "var"),
        "GOURMET_SECURITY__STAFF_TOKEN": STAFF_TOKEN,
        "GOURMET_ORDERS__VIEWS_HELD": "0",
        "PYTHONPATH": str(ROOT),
    }
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "past_orders": PAST_ORDERS}
    with server("gourmet.app:create_server_app", GOURMET_APP_PORT, env, factory=True) as gourmet:
        results["empty"] = measure(gourmet)
    close_open_orders(url)
    results["generate_s"] = add_past_orders(url, PAST_ORDERS)
    with server("gourmet.app:create_server_app", GOURMET_APP_PORT, env, factory=True) as gourmet:
        results["at_scale"] = measure(gourmet)
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM orders").fetchone()
    results["orders_stored"] = row[0] if row else 0
    embedded.stop()

    ratios = {
        name: results["at_scale"][name]["ok_per_s"] / results["empty"][name]["ok_per_s"]
        for name in ("kitchen_board", "order_status", "checkout")
    }
    results["ratios"] = ratios
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2) + "\n")

    print(
        f"\nData at scale ({results['orders_stored']:,} orders stored; {PAST_ORDERS:,} past ones"
        f" written in {results['generate_s']:.0f} s; wrk, {DURATION_S}s each)"
    )
    for name, what in (
        ("kitchen_board", "GET /api/staff/orders"),
        ("order_status", "GET /api/orders/{token}, db"),
        ("checkout", "POST /api/orders, 40 slots"),
    ):
        empty, scaled = results["empty"][name], results["at_scale"][name]
        verdict = "meets" if ratios[name] >= GOAL else "BELOW"
        print(
            f"  {what:30} empty {empty['ok_per_s']:8.0f}/s p99 {empty['p99_ms']:6.1f} ms"
            f"   at scale {scaled['ok_per_s']:8.0f}/s p99 {scaled['p99_ms']:6.1f} ms"
            f"   ratio {ratios[name]:.2f} (goal >= {GOAL:.2f}: {verdict})"
        )
    print(f"results written to {RESULTS / 'scale.json'}")


if __name__ == "__main__":
    main()
