"""``gourmet drill`` unattended: the operator's answers come scripted on stdin, the spike fires an
alert, the incident is posted to the status page and resolved, each step timed in the report."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from gourmet_tools.loadtest.local import STAFF_TOKEN, local_server
from typer.testing import CliRunner

from gourmet.cli import app
from tests.loadtest.helpers import own_database
from tests.processes import free_port

DATABASE = "gourmet_drill_test"
ANSWERS = [
    "",  # the runbook read
    "Ordering is slow tonight",
    "Your order is safe; it may take a few minutes longer.",
    "20",  # minutes to resolution
    "",  # the spike judged over
    "All orders are flowing again.",
]


@pytest.fixture
def drill_database(admin_url: str) -> str:
    return own_database(admin_url, DATABASE)


def test_a_drill_walks_the_operator_from_alert_to_resolution(
    drill_database: str, tmp_path: Path
) -> None:
    # One connection and a small concurrency limit: the spike sheds for long enough (15 s)
    # for the alerts to fire, as a real spike does against a real pool.
    env = {
        "GOURMET_DATABASE__URL": drill_database,
        "GOURMET_DATA_DIR": str(tmp_path),
        "GOURMET_DATABASE__POOL_MAX_SIZE": "1",
        "GOURMET_SERVER__WORKERS": "1",
        "GOURMET_ADMISSION__LIMITER_MIN": "1",
        "GOURMET_ADMISSION__LIMITER_INITIAL": "2",
        "GOURMET_ADMISSION__LIMITER_MAX": "2",
        "GOURMET_ADMISSION__WAITING_ROOM_SIZE": "0",
    }
    with local_server(env, free_port(), tmp_path / "server.log") as base:
        outcome = CliRunner().invoke(
            app,
            [
                "drill",
                "--url",
                base,
                "--staff-token",
                STAFF_TOKEN,
                "--base-rate",
                "30",
                "--scale",
                "0.15",
                "--patience",
                "15",
                "--out",
                str(tmp_path / "report"),
            ],
            input="\n".join(ANSWERS) + "\n",
        )
        incidents = httpx.get(base + "/api/status").json()
    assert outcome.exit_code == 0, outcome.output
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    steps = [s["step"] for s in summary["steps"]]
    assert steps == [
        "load started",
        "alert fired",
        "runbook opened",
        "incident posted",
        "incident resolved",
        "load finished",
    ], outcome.output
    times = [s["at_s"] for s in summary["steps"]]
    assert times == sorted(times)
    assert "docs/runbooks/" in summary["steps"][2]["detail"]
    assert "Ordering is slow tonight" in summary["steps"][3]["detail"]
    page = (tmp_path / "report" / "report.html").read_text()
    assert "The operator&#x27;s steps" in page or "The operator's steps" in page
    # The status page shows the drill's incident resolved, with the operator's words.
    assert "All orders are flowing again." in json.dumps(incidents)
