"""A short spike (about 20 s of arrivals) against a local hardened server, as operators run it:
customers who retry as the checkout page does, the database audited afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from gourmet_tools.loadtest import report
from gourmet_tools.loadtest.loadrun import Phase
from gourmet_tools.loadtest.local import STAFF_TOKEN, local_server
from gourmet_tools.loadtest.runner import run_shape
from gourmet_tools.loadtest.shapes import Shape, ramp

from tests.loadtest.helpers import own_database
from tests.processes import free_port

DATABASE = "gourmet_spike_test"
NORMAL = 15.0  # customers per second; the spike is ten times that
ERROR_BOUND = 0.01  # of all attempts: other 5xx or no answer (503s are waits, counted apart)


@pytest.fixture
def spike_database(admin_url: str) -> str:
    return own_database(admin_url, DATABASE)


def short_spike() -> Shape:
    return Shape(
        "short spike",
        "normal, ten times that within 5 s, held, back",
        [
            Phase("normal", NORMAL, 5),
            *ramp("spike rising", NORMAL, 10 * NORMAL, 5),
            Phase("spike", 10 * NORMAL, 5),
            Phase("after", NORMAL, 5),
        ],
    )


def test_a_short_spike_costs_no_customer_their_order(spike_database: str, tmp_path: Path) -> None:
    env = {"GOURMET_DATABASE__URL": spike_database, "GOURMET_DATA_DIR": str(tmp_path)}
    with local_server(env, free_port(), tmp_path / "server.log") as base:
        result = run_shape(
            "hardened",
            base,
            short_spike(),
            patience_s=30,
            staff_token=STAFF_TOKEN,
            database_url=spike_database,
            spike_prefix="spike",
        )
    figures = result.figures
    assert figures["customers"] > 500
    assert figures["placed_share"] == 1.0, figures
    assert (figures["lost"], figures["duplicated"], figures["unacknowledged"]) == (0, 0, 0)
    assert figures["error_rate"] <= ERROR_BOUND, figures["answers_by_status"]
    assert result.samples, "the server was never probed"
    # The report is written, and built again from what it recorded.
    page = report.write([result], tmp_path / "report", "short spike")
    again = report.read(tmp_path / "report")
    assert page.read_text().count("hardened") >= 2
    assert [r.figures["customers"] for r in again] == [figures["customers"]]
    assert len(again[0].customers) == len(result.customers)
