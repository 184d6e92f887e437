"""The Locust journeys, headless for 15 s against a local server: every route answered without
failure, the CSV and HTML reports written, and every acknowledged order in the database once."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import gourmet_tools.loadtest
import psycopg
import pytest
from gourmet_tools.loadtest.local import STAFF_TOKEN, local_server

from tests.loadtest.helpers import own_database
from tests.processes import free_port

DATABASE = "gourmet_locust_test"
# A path, not an import: importing locust here would monkey-patch the test process (gevent).
LOCUSTFILE = Path(gourmet_tools.loadtest.__file__).parent / "locustfile.py"


@pytest.fixture
def locust_database(admin_url: str) -> str:
    return own_database(admin_url, DATABASE)


def test_the_journeys_run_headless_and_every_order_is_kept_once(
    locust_database: str, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger.txt"
    env = {"GOURMET_DATABASE__URL": locust_database, "GOURMET_DATA_DIR": str(tmp_path)}
    with local_server(env, free_port(), tmp_path / "server.log") as base:
        run = subprocess.run(
            [
                str(Path(sys.executable).with_name("locust")),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--host",
                base,
                "--csv",
                str(tmp_path / "run"),
                "--html",
                str(tmp_path / "report.html"),
                "--only-summary",
            ],
            env={
                **os.environ,
                "GOURMET_SECURITY__STAFF_TOKEN": STAFF_TOKEN,
                "JOURNEYS_SHAPE": "steady",
                "JOURNEYS_BASE_RATE": "3",
                "JOURNEYS_SCALE": "0.05",  # 15 s
                "JOURNEYS_WEIGHTS": "browser=40,customer=45,staff=15",
                "JOURNEYS_THINK_S": "0.2,1",
                "JOURNEYS_LEDGER": str(ledger),
            },
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    with (tmp_path / "run_stats.csv").open() as stats:
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
    for route in ("/api/menu", "/api/slots", "/api/orders", "/api/orders/[token]"):
        assert int(rows[route]["Request Count"]) > 0, route
        assert int(rows[route]["Failure Count"]) == 0, rows[route]
    assert int(rows["/api/staff/orders"]["Request Count"]) > 0
    assert int(rows["Aggregated"]["Failure Count"]) == 0
    assert (tmp_path / "report.html").stat().st_size > 10_000
    acknowledged = dict(line.split() for line in ledger.read_text().splitlines())
    assert len(acknowledged) >= 5
    with psycopg.connect(locust_database) as conn:
        stored = conn.execute(
            "SELECT c.idempotency_key, o.token FROM checkout_request c"
            " JOIN orders o ON o.id = c.order_id"
        ).fetchall()
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()
    assert dict(stored) == acknowledged  # each acknowledged order stored, under its own key
    assert orders == (len(acknowledged),)  # and nothing else: none duplicated
