"""``gourmet db backup`` and ``gourmet db restore``: a round trip through pg_dump and pg_restore
keeps every order as it was, and a restore that fails changes nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg.rows import dict_row
from typer.testing import CliRunner

from gourmet.cli import app as cli
from gourmet.db.embedded import drop_database, ensure_database
from tests.conftest import FixtureMenu
from tests.ordering.helpers import checkout_body
from tests.serving import Client

pytestmark = pytest.mark.anyio

ORDERS_SQL = """
SELECT o.id, o.token, o.status, o.customer_name, o.total_cents, o.slot_start,
    (SELECT json_agg(json_build_object('name', l.name, 'quantity', l.quantity) ORDER BY l.position)
     FROM order_line l WHERE l.order_id = o.id) AS lines
FROM orders o ORDER BY o.id
"""


def orders_in(url: str) -> list[dict[str, Any]]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(ORDERS_SQL).fetchall()


def said(result: Any) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())


async def run_cli(monkeypatch: pytest.MonkeyPatch, url: str, *args: str) -> Any:
    monkeypatch.setenv("GOURMET_DATABASE__URL", url)
    return await asyncio.to_thread(CliRunner().invoke, cli, ["db", *args])


async def test_a_backup_restored_into_an_empty_database_has_every_order(
    client: Client,
    menu: FixtureMenu,
    database_url: str,
    admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("Ada", "Grace", "Edsger"):
        body = checkout_body([{"item_id": menu.cake, "quantity": 2}], name=name)
        assert (await client.post("/api/orders", json=body)).status_code == 201
    before = orders_in(database_url)
    assert len(before) == 3

    dump = tmp_path / "gourmet.dump"
    made = await run_cli(monkeypatch, database_url, "backup", str(dump))
    assert made.exit_code == 0, made.output
    assert "backed up 3 orders" in said(made)
    assert dump.stat().st_size > 0

    copy = "gourmet_restore_test"
    drop_database(admin_url, copy)
    ensure_database(admin_url, copy)
    copy_url = urlunsplit(urlsplit(database_url)._replace(path=f"/{copy}"))
    try:
        refused = await run_cli(monkeypatch, copy_url, "restore", str(dump))
        assert refused.exit_code == 2, "a restore needs --yes"
        restored = await run_cli(monkeypatch, copy_url, "restore", str(dump), "--yes")
        assert restored.exit_code == 0, restored.output
        assert "3 orders" in said(restored)
        assert orders_in(copy_url) == before
        # A broken file changes nothing: the restore is one transaction.
        broken = tmp_path / "broken.dump"
        broken.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
        failed = await run_cli(monkeypatch, copy_url, "restore", str(broken), "--yes")
        assert failed.exit_code == 1
        assert "nothing was changed" in said(failed)
        assert orders_in(copy_url) == before
    finally:
        drop_database(admin_url, copy)
