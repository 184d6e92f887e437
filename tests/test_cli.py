"""The gourmet command line against the test database."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from gourmet.cli import app
from tests.conftest import TABLES_SQL

runner = CliRunner()


def test_help_lists_every_command() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("run", "serve", "db", "seed", "users"):
        assert command in result.output


def test_db_status_and_upgrade(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOURMET_DATABASE__URL", database_url)
    status = runner.invoke(app, ["db", "status"])
    assert status.exit_code == 0, status.output
    assert "applied" in status.output
    assert "0001_initial" in status.output
    upgrade = runner.invoke(app, ["db", "upgrade"])
    assert upgrade.exit_code == 0
    assert "up to date" in upgrade.output


def test_seed_demo_loads_forty_items_once(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        tables = [row[0] for row in conn.execute(TABLES_SQL)]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    monkeypatch.setenv("GOURMET_DATABASE__URL", database_url)
    first = runner.invoke(app, ["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert "loaded 40 items in 6 categories" in first.output
    second = runner.invoke(app, ["seed", "demo"])
    assert "nothing loaded" in second.output
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM item), (SELECT count(*) FROM category),"
            " (SELECT count(*) FROM modifier_group), (SELECT count(*) FROM opening_hours)"
        ).fetchone()
    assert row == (40, 6, 29, 7)
