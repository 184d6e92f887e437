"""The status page: derived from the system's state, and incidents posted by operators."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from litestar import Litestar
from typer.testing import CliRunner

from gourmet.cli import app as cli
from gourmet.cli.status import parse_eta
from gourmet.db.types import Conn
from gourmet.services import runtime_of
from tests.conftest import STAFF_HEADERS, FixtureMenu
from tests.polling import wait_for
from tests.serving import Client

pytestmark = pytest.mark.anyio


def components(feed: dict[str, object]) -> dict[str, str]:
    return {c["name"]: c["state"] for c in feed["components"]}  # type: ignore[attr-defined]


async def test_all_operational_by_default(client: Client, menu: FixtureMenu) -> None:
    feed = (await client.get("/api/status")).json()
    assert feed["overall"] == "operational"
    assert components(feed) == {
        "ordering": "operational",
        "tracking": "operational",
        "payments": "operational",
    }
    assert feed["banner"] is None
    page = await client.get("/status")
    assert page.status_code == 200
    assert "All systems operational" in page.text


async def test_an_incident_is_posted_updated_and_resolved(
    client: Client, menu: FixtureMenu
) -> None:
    posted = await client.post(
        "/api/ops/incidents",
        json={
            "title": "Slow checkout",
            "state": "investigating",
            "message": "Checkout is slow; <b>we are on it</b>.",
            "expected_resolution_at": "2030-01-01T18:30:00Z",
        },
        headers=STAFF_HEADERS,
    )
    assert posted.status_code == 201, posted.text
    feed = posted.json()
    incident = feed["incidents"][0]
    assert (incident["title"], incident["state"]) == ("Slow checkout", "investigating")
    assert components(feed)["ordering"] == "outage"
    assert feed["banner"].startswith("Slow checkout: Checkout is slow")
    # In the restaurant's time (New York: 18:30 UTC is 13:30 there in January).
    assert feed["banner"].endswith("Expected back by 13:30.")
    page = (await client.get("/status")).text
    assert "Expected resolution: 13:30, 01 Jan" in page
    assert "&lt;b&gt;we are on it&lt;/b&gt;" in page  # operators' text is escaped too

    number = incident["id"]
    for state in ("identified", "resolved"):
        updated = await client.post(
            f"/api/ops/incidents/{number}",
            json={"state": state, "message": f"now {state}"},
            headers=STAFF_HEADERS,
        )
        assert updated.status_code == 200
    feed = (await client.get("/api/status")).json()
    assert feed["overall"] == "operational"
    assert feed["banner"] is None
    resolved = feed["incidents"][0]
    assert resolved["state"] == "resolved"
    assert [u["state"] for u in resolved["updates"]] == ["resolved", "identified", "investigating"]


async def test_incident_posts_need_the_staff_credential(client: Client, menu: FixtureMenu) -> None:
    response = await client.post(
        "/api/ops/incidents", json={"title": "x", "state": "investigating", "message": "x"}
    )
    assert response.status_code == 401
    invalid = await client.post(
        "/api/ops/incidents",
        json={"title": "x", "state": "panicking", "message": "x"},
        headers=STAFF_HEADERS,
    )
    assert invalid.status_code == 400


async def test_status_turns_by_itself_when_the_system_degrades(
    client: Client, app: Litestar, menu: FixtureMenu
) -> None:
    board = runtime_of(app).services.status_board
    board.observe()
    admission = runtime_of(app).admission
    assert admission is not None
    admission.shed[next(iter(admission.shed))] += 5  # requests were shed
    feed = (await client.get("/api/status")).json()
    assert components(feed)["ordering"] == "degraded"
    assert "very busy" in feed["banner"]
    runtime_of(app).services.pool.health.mark_down()
    try:
        feed = (await client.get("/api/status")).json()
        assert components(feed)["tracking"] == "outage"
        assert feed["overall"] == "outage"
    finally:
        runtime_of(app).services.pool.health.mark_up()


async def test_cli_posts_an_incident_every_process_sees(
    client: Client, menu: FixtureMenu, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOURMET_DATABASE__URL", database_url)
    # The CLI runs its own event loop, so it runs in a thread here, as in its own process.
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        [
            "status",
            "post",
            "--title",
            "Card payments down",
            "--state",
            "identified",
            "--message",
            "Pay at pickup works.",
            "--eta",
            "45m",
            "--component",
            "payments",
        ],
    )
    assert result.exit_code == 0, result.output
    feed = await wait_for(lambda: client.get("/api/status"), lambda r: bool(r.json()["incidents"]))
    assert components(feed.json())["payments"] == "degraded"
    listed = await asyncio.to_thread(CliRunner().invoke, cli, ["status", "list"])
    assert "Card payments down" in listed.output
    bad = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["status", "post", "--title", "x", "--state", "nope", "--message", "x"],
    )
    assert bad.exit_code != 0


def test_eta_parsing() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_eta("30m", now) == datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    assert parse_eta("2h", now) == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    assert parse_eta("2026-11-24T18:00", now) == datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    assert parse_eta(None) is None


@pytest.mark.parametrize(
    "eta",
    [
        "0001-01-01T00:00:00+01:00",  # year 0 once in UTC: it used to be stored, then unreadable
        "9999-12-31T23:00:00-05:00",  # year 10000 once in UTC
        "1999-12-31T23:59:59Z",
        "2300-01-01T00:00:00Z",
        "2030-01-01T18:30:00",  # no time zone: which evening?
    ],
)
async def test_an_impossible_expected_resolution_is_refused_and_nothing_is_written(
    client: Client, menu: FixtureMenu, conn: Conn, eta: str
) -> None:
    body = {"title": "Slow", "state": "investigating", "message": "On it.", "eta": eta}
    body["expected_resolution_at"] = body.pop("eta")
    answer = await client.post("/api/ops/incidents", json=body, headers=STAFF_HEADERS)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "expected_resolution_at" in answer.text
    row = await (await conn.execute("SELECT count(*) AS n FROM incident")).fetchone()
    assert row is not None
    assert row["n"] == 0
    # The site is as it was: the status feed reads, ordering works.
    assert (await client.get("/api/status")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200


async def test_the_database_refuses_an_impossible_expected_resolution_too(conn: Conn) -> None:
    with pytest.raises(psycopg.errors.CheckViolation):
        await conn.execute(
            "INSERT INTO incident (title, state, message, expected_resolution_at)"
            " VALUES ('t', 'investigating', 'm', '0001-01-01 00:00:00+01')"
        )
